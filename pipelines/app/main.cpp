// The pixelwise command: a table of sub-commands (pipelines/commands/).
// Exit status (docs/errors.md, "Exit status"): 0 success, 1 failure, 2 usage
// error (CLI11's parse errors and UsageError from the runners).
#include <iostream>
#include <vector>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"

using namespace pixelwise;

int main(int argc, char** argv) {
  constexpr int kFailure = 1, kUsage = 2;
  CLI::App app{"pixelwise: pixel-wise explanations (LRP) of Bag-of-Words + kernel-SVM image classifiers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pixelwise 0.1.0");
  // The image size limit for every sub-command, over PIXELWISE_MAX_IMAGE_PIXELS
  // (docs/errors.md, "Limits"); accepted after the sub-command's name too.
  long max_image_pixels = -1;
  CLI::Option* max_pixels_option =
      app.add_option("--max-image-pixels", max_image_pixels,
                     "largest image accepted, in pixels (0: no limit; default: PIXELWISE_MAX_IMAGE_PIXELS, else "
                     "4096 x 4096); larger images are refused, or downscaled by a BoW model configured so")
          ->check(CLI::NonNegativeNumber);
  app.fallthrough();
  const std::vector<Command> commands{
      add_train_command(app),    add_predict_command(app),           add_test_command(app),
      add_explain_command(app),  add_train_network_command(app),     add_evaluate_command(app),
      add_merge_evaluations_command(app), add_make_scenes_command(app), add_montage_command(app),
      add_analyse_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; CLI11 prints them.
    return app.exit(e) == 0 ? 0 : kUsage;
  }
  if (max_pixels_option->count()) set_max_image_pixels(max_image_pixels);
  try {
    for (const Command& command : commands)
      if (*command.app) return command.run();
  } catch (const UsageError& e) {
    std::cerr << "pixelwise: usage error: " << e.what() << " (see pixelwise COMMAND --help)\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "pixelwise: error: " << e.what() << "\n";
    return kFailure;
  }
  return kFailure;
}
