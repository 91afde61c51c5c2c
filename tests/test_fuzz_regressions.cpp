// Hardening: the strict libsvm model reader against libsvm's own on
// valid files and on the inputs that break libsvm's, and every fuzz harness
// (fuzz/fuzz_targets.hpp) on valid inputs and on the inputs the fuzzers found
// (each one a crash, a sanitizer report or an unclean error before its fix).
#include <libsvm/svm.h>

#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>

#include "../fuzz/fuzz_targets.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

std::string slurp(const std::string& path) { return read_file(path); }

// A one-vs-rest machine and a 3-class one-vs-one model, written by libsvm.
struct SavedModels {
  test::ScratchDir dir{"libsvm-format"};
  std::string ovr_text, ovo_text;
  SavedModels() {
    RowMatrixXd X(5, 3);
    X << 1, 0, 0, 0.9, 0.1, 0, 0, 1, 0, 0.1, 0.8, 0.1, 0, 0, 1;
    OneVsRestSvm::train(X, {0, 0, 1, 1, 1}, 2, SvmOptions{}).save_machine(0, dir / "ovr.model");
    OneVsOneSvm::train(X, {0, 0, 1, 1, 2}, 3, SvmOptions{}).save(dir / "ovo.model");
    ovr_text = slurp(dir / "ovr.model");
    ovo_text = slurp(dir / "ovo.model");
  }
};

void check_same(const svm_model* a, const svm_model* b) {
  BOOST_TEST(a->param.svm_type == b->param.svm_type);
  BOOST_TEST(a->param.kernel_type == b->param.kernel_type);
  BOOST_TEST(a->nr_class == b->nr_class);
  BOOST_TEST(a->l == b->l);
  const int K = a->nr_class;
  for (int i = 0; i < K * (K - 1) / 2; ++i) BOOST_TEST(a->rho[i] == b->rho[i]);
  for (int i = 0; i < K; ++i) {
    BOOST_TEST(a->label[i] == b->label[i]);
    BOOST_TEST(a->nSV[i] == b->nSV[i]);
  }
  for (int k = 0; k < a->l; ++k) {
    BOOST_TEST(a->SV[k][0].index == 0);
    BOOST_TEST(a->SV[k][0].value == b->SV[k][0].value);
    BOOST_TEST(a->SV[k][1].index == -1);
    for (int j = 0; j < K - 1; ++j) BOOST_TEST(a->sv_coef[j][k] == b->sv_coef[j][k]);
  }
}

void check_rejected(const std::string& text, const std::string& part) {
  try {
    LibsvmModel::parse(text, "bad.model");
    BOOST_ERROR("accepted: " << text);
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("bad.model") != std::string::npos, message);
    BOOST_TEST(message.find(part) != std::string::npos, message << " (expected to mention " << part << ")");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(strict_reader_reads_what_libsvm_writes_as_libsvm_does) {
  SavedModels saved;
  for (const std::string name : {"ovr.model", "ovo.model"}) {
    BOOST_TEST_CONTEXT(name) {
      svm_model* theirs = svm_load_model((saved.dir / name).c_str());
      BOOST_REQUIRE(theirs);
      const LibsvmModel ours = LibsvmModel::parse(slurp(saved.dir / name), name);
      BOOST_TEST(ours.get()->nr_class == (name == "ovr.model" ? 2 : 3));
      check_same(ours.get(), theirs);
      svm_free_and_destroy_model(&theirs);
    }
  }
  // Windows line ends and trailing blank lines are accepted.
  std::string crlf;
  for (char c : saved.ovr_text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  BOOST_TEST(LibsvmModel::parse(crlf + "\n\n", "crlf.model").get()->l == LibsvmModel::parse(saved.ovr_text, "x").get()->l);
}

BOOST_AUTO_TEST_CASE(strict_reader_rejects_what_breaks_libsvm) {
  const std::string head = "svm_type c_svc\nkernel_type precomputed\n";
  const std::string good = head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:1 \n-0.25 0:2 \n";
  BOOST_TEST(LibsvmModel::parse(good, "good.model").get()->l == 2);
  // "rho" before "nr_class": libsvm allocates rho for nr_class = 0 classes and
  // writes past it; the header is read whole before it is checked here.
  const LibsvmModel reordered =
      LibsvmModel::parse(head + "rho 0.5\nnr_class 2\ntotal_sv 2\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:1\n-0.25 0:2\n", "r");
  BOOST_TEST(reordered.get()->rho[0] == 0.5);
  BOOST_TEST(reordered.get()->sv_coef[0][1] == -0.25);
  BOOST_TEST(reordered.get()->SV[1][0].value == 2.0);
  // More support vectors announced than lines: libsvm reads past the end of the file.
  check_rejected(head + "nr_class 2\ntotal_sv 3\nrho 0.5\nlabel 1 -1\nnr_sv 2 1\nSV\n0.25 0:1\n-0.25 0:2\n", "total_sv");
  // A huge class count: libsvm's arrays of nr_class * (nr_class - 1) / 2 overflow.
  check_rejected(head + "nr_class 2000000000\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:1\n-0.25 0:2\n",
                 "nr_class");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 2\nSV\n0.25 0:1\n-0.25 0:2\n", "nr_sv");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho nan\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:1\n-0.25 0:2\n", "finite");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 1\nnr_sv 1 1\nSV\n0.25 0:1\n-0.25 0:2\n", "twice");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:0\n-0.25 0:2\n", "at least 1");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 1:0.5\n-0.25 0:2\n", "0:INDEX");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0.1 0:1\n-0.25 0:2\n", "coefficients");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:1\n-0.25 0:2\n", "rho");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\nSV\n0.25 0:1\n", "total_sv");
  check_rejected(head + "nr_class 2\ntotal_sv 2\nrho 0.5\nlabel 1 -1\nnr_sv 1 1\n", "SV");
  check_rejected("svm_type c_svc\nkernel_type rbf\ngamma 0.5\nnr_class 2\n", "gamma");
  check_rejected("svm_type nu_svc\nkernel_type precomputed\nnr_class 2\ntotal_sv 0\nrho 0\nlabel 1 -1\nnr_sv 0 0\nSV\n",
                 "c_svc");
  check_rejected(good + "garbage\n", "support-vector lines");
  check_rejected(head + "nr_class 2\nnr_class 2\n", "twice");
  check_rejected("", "SV");
}

BOOST_AUTO_TEST_CASE(harnesses_accept_valid_inputs_and_reject_damaged_ones_cleanly) {
  SavedModels saved;
  // Each harness on a valid input and on every truncation of it: a clean
  // error or success, never a crash (this also runs under the sanitizers).
  RowMatrixXd m(2, 2);
  m << 1, 2, 3, 4;
  const std::string npy = npy_bytes(m);
  BOOST_TEST((parse_npy_f8(npy, "m.npy") == m));
  for (size_t n = 0; n <= npy.size(); n += 7) fuzz::npy(npy.substr(0, n));
  for (size_t n = 0; n <= saved.ovo_text.size(); n += 5) fuzz::libsvm_model(saved.ovo_text.substr(0, n));
  const std::string config = PipelineConfig().to_json().dump();
  for (size_t n = 0; n <= config.size(); n += 3) fuzz::config(config.substr(0, n));
  const std::string toolbox = "Linear 2 1\n1 2\n0.5\nTanh\n";
  BOOST_TEST(Network::parse_toolbox(toolbox, "t.txt").toolbox_text().find("Linear 2 1") == 0);
  for (size_t n = 0; n <= toolbox.size(); ++n) fuzz::toolbox(toolbox.substr(0, n));
  // Archives: pack and unpack are inverse for plain names; others are skipped.
  const fuzz::Files files{{"manifest.json", "{}"}, {"a.npy", npy}, {"../x", "no"}};
  const fuzz::Files back = fuzz::unpack(fuzz::pack(files));
  BOOST_TEST(back.size() == 2u);
  BOOST_TEST((back[1] == files[1]));
  fuzz::model_dir(fuzz::pack(files));
  // Images: every cut of a small PNG and JPEG is decoded or refused cleanly.
  for (const char* extension : {".png", ".jpg"}) {
    std::vector<unsigned char> bytes;
    BOOST_REQUIRE(cv::imencode(extension, cv::Mat(5, 6, CV_8UC3, cv::Scalar(10, 200, 30)), bytes));
    const std::string encoded(bytes.begin(), bytes.end());
    for (size_t n = 0; n <= encoded.size(); ++n) fuzz::image(encoded.substr(0, n));
    std::string flipped = encoded;
    for (size_t i = 2; i < flipped.size(); i += 11) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    fuzz::image(flipped);
  }
  // A PNG header claiming 3976676434 x 3976712730 pixels: the size check
  // itself must not overflow (found by fuzz_image).
  const char header[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\xed\x07\x44\x52\xed\x07\xd2\x1a\x82\x4a\x94\xbd";
  const std::string forged(header, sizeof header - 1);
  fuzz::image(forged);
  BOOST_TEST(test::error_of([&] { decode_image_bytes(forged, "forged.png"); }).find(
                 "forged.png: image of 3976676434 x 3976712730 = 15814099798178804820 pixels is above the limit") == 0);
  // A manifest nested beyond the JSON depth limit.
  fuzz::model_dir(fuzz::pack({{"manifest.json", std::string(100000, '[') + std::string(100000, ']')}}));
  fuzz::idx(fuzz::pack({{"images", std::string("\0\0\x08\x03", 4)}, {"labels", ""}}));
}
