#pragma once
// The sub-commands of the pixelwise CLI. Each is registered with its options
// and returns what runs it once the arguments are parsed; app/main.cpp is the
// table of them. Runners read and check every input before the first write.
#include <CLI/CLI.hpp>
#include <functional>

namespace pixelwise {

/// A registered sub-command: its CLI11 app and its runner (the exit status).
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_train_command(CLI::App& app);              // commands/model_commands.cpp
Command add_predict_command(CLI::App& app);            //   "
Command add_test_command(CLI::App& app);               //   "
Command add_explain_command(CLI::App& app);            // commands/explain_command.cpp
Command add_train_network_command(CLI::App& app);      // commands/network_commands.cpp
Command add_evaluate_command(CLI::App& app);           // commands/evaluate_commands.cpp
Command add_merge_evaluations_command(CLI::App& app);  //   "
Command add_make_scenes_command(CLI::App& app);        // commands/image_commands.cpp
Command add_montage_command(CLI::App& app);            //   "
Command add_analyse_command(CLI::App& app);            // commands/analyse_command.cpp

}  // namespace pixelwise
