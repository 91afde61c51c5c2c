// `pixelwise make-scenes` (evaluation/benchmark_scenes.hpp) and `montage` (io/montage.hpp).
#include <iostream>
#include <memory>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"
#include "pixelwise/pipelines/io/montage.hpp"

namespace pixelwise {

Command add_make_scenes_command(CLI::App& app) {
  auto scenes = std::make_shared<SceneOptions>();
  auto out = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("make-scenes", "generate a localisation benchmark with ground-truth masks");
  auto kind = std::make_shared<std::string>(name_of(scenes->kind));
  cmd->add_option("--kind", *kind, "fashion (Fashion-MNIST items on photographs), shapes (circle among "
                                   "squares and triangles) or watermark (fashion scenes, some of one class tagged)")
      ->check(CLI::IsMember(enum_names(SceneKind{}).names()));
  cmd->add_option("--out", *out, "folder to write")->required();
  cmd->add_option("--size", scenes->size, "scene side in pixels (default 80)");
  cmd->add_option("--train", scenes->train, "training scenes (default 400)");
  cmd->add_option("--test", scenes->test, "test scenes (default 100)");
  cmd->add_option("--seed", scenes->seed, "seed (default 1)");
  cmd->add_option("--max-objects", scenes->max_objects, "objects per scene at most (default 3)");
  cmd->add_option("--target", scenes->target, "fashion: the Fashion-MNIST class to detect (default trouser)");
  cmd->add_option("--min-scale", scenes->min_scale, "fashion: smallest item scale (default 0.9 of 28 px)");
  cmd->add_option("--max-scale", scenes->max_scale, "fashion: largest item scale (default 1.4)");
  auto tagged_class = std::make_shared<std::string>();
  cmd->add_option("--class", *tagged_class, "watermark: the Fashion-MNIST class whose training scenes carry the tag "
                                            "(default trouser)");
  cmd->add_option("--rate", scenes->tag_rate, "watermark: share of that class's training scenes tagged (default 0.3)");
  cmd->add_option("--tag-scale", scenes->tag_scale, "watermark: the 7 x 11 pixel tag enlarged this many times (1 to 4; "
                                                    "default 1)");
  cmd->add_flag("--quiet", *quiet, "no progress lines");
  return {cmd, [cmd, scenes, kind, out, quiet, tagged_class] {
            scenes->kind = parse_enum<SceneKind>(*kind, "scene kind", "--kind");
            // --class and --rate belong to the watermark kind, --target to the fashion kind.
            const bool watermark = scenes->kind == SceneKind::watermark;
            if (!watermark && (cmd->count("--class") > 0 || cmd->count("--rate") > 0 || cmd->count("--tag-scale") > 0))
              throw UsageError("--class, --rate and --tag-scale: only for --kind watermark");
            if (watermark && (scenes->tag_scale < 1 || scenes->tag_scale > kMaxTagScale))
              throw UsageError("--tag-scale " + std::to_string(scenes->tag_scale) + ": must be from 1 to " +
                               std::to_string(kMaxTagScale));
            if (watermark && cmd->count("--target") > 0) throw UsageError("--target: --kind watermark takes --class");
            if (cmd->count("--class") > 0) scenes->target = *tagged_class;
            if (watermark && !(scenes->tag_rate >= 0 && scenes->tag_rate <= 1))
              throw UsageError("--rate " + std::to_string(scenes->tag_rate) + ": must be between 0 and 1");
            make_scenes(*scenes, *out, *quiet ? nullptr : &std::cerr);
            return 0;
          }};
}

Command add_montage_command(CLI::App& app) {
  struct Arguments {
    std::vector<std::string> inputs, labels;
    std::string out;
    int columns = 0, scale = 1;
  };
  auto a = std::make_shared<Arguments>();
  auto* cmd = app.add_subcommand("montage", "put images (e.g. heatmaps of several methods) side by side");
  cmd->add_option("--out", a->out, "PNG file to write")->required();
  cmd->add_option("--label", a->labels, "a label above each image, in order (give one per image, or none)")
      ->allow_extra_args(false);  // one value per --label, so the images stay positional
  cmd->add_option("--columns", a->columns, "images per row (default 0: all in one row)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--scale", a->scale, "enlarge every image this many times, pixels kept sharp (default 1)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("images", a->inputs, "image files")->required();
  return {cmd, [a] {
            write_montage(a->inputs, a->labels, a->out, a->columns, a->scale);
            return 0;
          }};
}

}  // namespace pixelwise
