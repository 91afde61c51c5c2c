// The pixelwise command: a table of sub-commands (pipelines/commands/).
#include <iostream>
#include <vector>

#include "pixelwise/pipelines/commands/commands.hpp"

using namespace pixelwise;

int main(int argc, char** argv) {
  CLI::App app{"pixelwise: pixel-wise explanations (LRP) of Bag-of-Words + kernel-SVM image classifiers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pixelwise 0.1.0");
  const std::vector<Command> commands{
      add_train_command(app),    add_predict_command(app),           add_test_command(app),
      add_explain_command(app),  add_train_network_command(app),     add_evaluate_command(app),
      add_merge_evaluations_command(app), add_make_scenes_command(app), add_montage_command(app)};
  CLI11_PARSE(app, argc, argv);
  try {
    for (const Command& command : commands)
      if (*command.app) return command.run();
  } catch (const std::exception& e) {
    std::cerr << "pixelwise: error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
