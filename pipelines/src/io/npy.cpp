#include "pixelwise/pipelines/io/npy.hpp"

#include <cstring>
#include <regex>
#include <stdexcept>

namespace pixelwise {
namespace {

template <typename Matrix>
std::string to_npy(const Matrix& a, const char* descr) {
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + "), }";
  // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  const size_t bytes = sizeof(typename Matrix::Scalar) * static_cast<size_t>(a.size());
  const size_t start = out.size();
  out.resize(start + bytes);
  if (bytes) std::memcpy(&out[start], a.data(), bytes);
  return out;
}

template <typename Matrix>
Matrix from_npy(const std::string& bytes, const std::string& what, const std::string& descr) {
  auto fail = [&](const std::string& why) { return std::runtime_error(what + ": not a valid .npy file (" + why + ")"); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw fail("bad magic");
  const unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t header_length, header_start;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail("truncated header");
    header_length = 0;
    for (int i = 3; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(bytes[8 + i]);
    header_start = 12;
  } else {
    throw fail("unknown version");
  }
  if (header_length > bytes.size() - header_start) throw fail("truncated header");
  const std::string header = bytes.substr(header_start, header_length);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'")) || m[1] != descr)
    throw fail("expected dtype " + descr);
  if (!std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*False"))) throw fail("expected C order");
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(\\s*(\\d{1,9})\\s*(?:,\\s*(\\d{1,9})\\s*)?,?\\s*\\)")))
    throw fail("expected a 1-D or 2-D shape");
  long rows = std::stol(m[1]), cols = m[2].matched ? std::stol(m[2]) : rows;
  if (!m[2].matched) rows = 1;
  const size_t payload = bytes.size() - header_start - header_length;
  const size_t expected = sizeof(typename Matrix::Scalar) * static_cast<size_t>(rows) * static_cast<size_t>(cols);
  if (payload != expected)
    throw fail("data has " + std::to_string(payload) + " bytes, the shape needs " + std::to_string(expected));
  Matrix a(rows, cols);
  if (expected) std::memcpy(a.data(), bytes.data() + header_start + header_length, expected);
  return a;
}

}  // namespace

std::string npy_bytes(const RowMatrixXd& a) { return to_npy(a, "<f8"); }
std::string npy_bytes(const RowMatrixXf& a) { return to_npy(a, "<f4"); }
RowMatrixXd parse_npy_f8(const std::string& bytes, const std::string& what) {
  return from_npy<RowMatrixXd>(bytes, what, "<f8");
}
RowMatrixXf parse_npy_f4(const std::string& bytes, const std::string& what) {
  return from_npy<RowMatrixXf>(bytes, what, "<f4");
}

}  // namespace pixelwise
