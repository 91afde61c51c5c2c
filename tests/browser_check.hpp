#pragma once
// Opening an HTML report in headless Chromium (the evaluation and the analysis
// reports): the browser command and the attributes a report's own check
// script sets on <body> once every image has loaded or failed.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string>

namespace pixelwise::test {

inline std::string chromium() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(candidate)) return candidate;
  throw std::runtime_error("chromium is not installed (Debian package chromium; scripts/setup.sh installs it)");
}

// The headless browser with a fresh profile and nothing that reaches the network.
inline std::string browser_command(const std::string& profile, const std::string& what) {
  return chromium() + " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
                      "--disable-component-update --disable-sync --virtual-time-budget=10000 --user-data-dir='" +
         profile + "' " + what;
}

// The value of attribute `name` of the <body> tag, "<missing>" without one.
inline std::string body_attribute(const std::string& dom, const std::string& name) {
  const std::regex body("<body[^>]*\\s" + name + "=\"([^\"]*)\"");
  std::smatch m;
  if (!std::regex_search(dom, m, body)) return "<missing>";
  return m[1];
}

// The checks every report passes once opened: its check script ran, every
// image it expects loaded and none broke, and it holds the tables it expects.
inline void check_report_dom(const std::string& dom, long expected_images, long expected_tables) {
  BOOST_TEST(body_attribute(dom, "data-check") == "done");
  BOOST_TEST(body_attribute(dom, "data-images-total") == std::to_string(expected_images));
  BOOST_TEST(body_attribute(dom, "data-images-loaded") == std::to_string(expected_images));
  BOOST_TEST(body_attribute(dom, "data-images-broken") == "");
  BOOST_TEST(body_attribute(dom, "data-tables") == std::to_string(expected_tables));
}

}  // namespace pixelwise::test
