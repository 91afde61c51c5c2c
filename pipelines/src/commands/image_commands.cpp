// `pixelwise make-scenes` (evaluation/benchmark_scenes.hpp) and `montage` (io/montage.hpp).
#include <iostream>
#include <memory>

#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/evaluation/benchmark_scenes.hpp"
#include "pixelwise/pipelines/io/montage.hpp"

namespace pixelwise {

Command add_make_scenes_command(CLI::App& app) {
  auto scenes = std::make_shared<SceneOptions>();
  auto out = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("make-scenes", "generate a localisation benchmark with ground-truth masks");
  cmd->add_option("--kind", scenes->kind, "fashion (Fashion-MNIST items on photographs) or shapes (circle among "
                                          "squares and triangles)")
      ->check(CLI::IsMember({"fashion", "shapes"}));
  cmd->add_option("--out", *out, "folder to write")->required();
  cmd->add_option("--size", scenes->size, "scene side in pixels (default 80)");
  cmd->add_option("--train", scenes->train, "training scenes (default 400)");
  cmd->add_option("--test", scenes->test, "test scenes (default 100)");
  cmd->add_option("--seed", scenes->seed, "seed (default 1)");
  cmd->add_option("--max-objects", scenes->max_objects, "objects per scene at most (default 3)");
  cmd->add_option("--target", scenes->target, "fashion: the Fashion-MNIST class to detect (default trouser)");
  cmd->add_option("--min-scale", scenes->min_scale, "fashion: smallest item scale (default 0.9 of 28 px)");
  cmd->add_option("--max-scale", scenes->max_scale, "fashion: largest item scale (default 1.4)");
  cmd->add_flag("--quiet", *quiet, "no progress lines");
  return {cmd, [scenes, out, quiet] {
            make_scenes(*scenes, *out, *quiet ? nullptr : &std::cerr);
            return 0;
          }};
}

Command add_montage_command(CLI::App& app) {
  struct Arguments {
    std::vector<std::string> inputs, labels;
    std::string out;
  };
  auto a = std::make_shared<Arguments>();
  auto* cmd = app.add_subcommand("montage", "put images (e.g. heatmaps of several methods) side by side");
  cmd->add_option("--out", a->out, "PNG file to write")->required();
  cmd->add_option("--label", a->labels, "a label above each image, in order (give one per image, or none)")
      ->allow_extra_args(false);  // one value per --label, so the images stay positional
  cmd->add_option("images", a->inputs, "image files")->required();
  return {cmd, [a] {
            write_montage(a->inputs, a->labels, a->out);
            return 0;
          }};
}

}  // namespace pixelwise
