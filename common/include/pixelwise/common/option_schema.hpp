#pragma once
// Option values are read once, at the boundary (JSON configuration, CLI,
// Python keywords), into enums and range-checked numbers; the code behind the
// boundary compares enums, never spellings. Two tables carry this:
//
// - EnumNames<E>: the (value, name) pairs of an enum, the one place its
//   spellings live. An enum E makes its table known by declaring
//   `const EnumNames<E>& enum_names(E)` in its namespace (found by argument-
//   dependent lookup); name_of, parse_enum and the schema fields below use it.
// - OptionSchema<S>: one entry per key of an option record S (its type, its
//   range and, through S's default member initialisers, its default). The
//   record's JSON reader and writer, the unknown-key check, the range check of
//   validate() and the Python keyword validation all come from it, so that a
//   key cannot be known to one of them and not to another (docs/config.md).
//
// Numbers are read strictly: an integer key refuses fractions and values out
// of its range instead of truncating or wrapping them, as a plain
// json::get<int>() would.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace pixelwise {

/// "where: " for messages, nothing when `where` is empty.
inline std::string where_prefix(const std::string& where) { return where.empty() ? std::string() : where + ": "; }

inline std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

/// Throws std::invalid_argument naming `where` when j is not an object or has
/// a key outside `allowed`, so that a misspelt key is an error naming it and
/// the known ones, never a silently ignored setting.
inline void check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where_prefix(where) + "must be a JSON object");
  for (const auto& item : j.items())
    if (!allowed.count(item.key()))
      throw std::invalid_argument(where_prefix(where) + "unknown key \"" + item.key() + "\" (known: " +
                                  join_names({allowed.begin(), allowed.end()}) + ")");
}

// ------------------------------------------------------------------- enums

template <typename E>
class EnumNames {
 public:
  EnumNames(std::initializer_list<std::pair<E, const char*>> entries) {
    for (const auto& [value, name] : entries) entries_.emplace_back(value, name);
  }
  /// The value spelt `name`; otherwise an error naming the key, the value and the known names.
  E parse(const std::string& name, const std::string& key, const std::string& where = "") const {
    for (const auto& [value, n] : entries_)
      if (n == name) return value;
    throw std::invalid_argument(where_prefix(where) + "unknown " + key + " \"" + name + "\" (known: " + choices() + ")");
  }
  /// A JSON string naming a value.
  E read(const nlohmann::json& j, const std::string& key, const std::string& where = "") const {
    if (!j.is_string())
      throw std::invalid_argument(where_prefix(where) + key + " must be one of " + choices() + ", got " + j.dump());
    return parse(j.get<std::string>(), key, where);
  }
  const std::string& name(E value) const {
    for (const auto& [v, n] : entries_)
      if (v == value) return n;
    throw std::logic_error("enum value without a name");
  }
  /// The names written, one per value (a value's later entries are aliases
  /// that are read but never written).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (E v : values()) out.push_back(name(v));
    return out;
  }
  std::vector<E> values() const {
    std::vector<E> out;
    for (const auto& entry : entries_)
      if (std::find(out.begin(), out.end(), entry.first) == out.end()) out.push_back(entry.first);
    return out;
  }
  /// "a, b, c": the names in table order.
  std::string choices() const { return join_names(names()); }

 private:
  std::vector<std::pair<E, std::string>> entries_;
};

template <typename E>
const std::string& name_of(E value) {
  return enum_names(value).name(value);
}
template <typename E>
E parse_enum(const std::string& name, const std::string& key, const std::string& where = "") {
  return enum_names(E{}).parse(name, key, where);
}

// ------------------------------------------------------------------- numbers

/// "a positive integer", "an integer in [1, 10]": a range up to the largest
/// int (or long long) is open above.
inline std::string describe_integers(long long min, long long max) {
  if (max == std::numeric_limits<int>::max() || max == std::numeric_limits<long long>::max()) {
    if (min == 1) return "a positive integer";
    if (min == 0) return "a non-negative integer";
    return "an integer >= " + std::to_string(min);
  }
  return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

/// An integer in [min, max]: whole numbers only (2.0 is 2, 2.5 is refused), no wrapping.
inline long long read_integer(const nlohmann::json& j, const std::string& key, long long min, long long max,
                              const std::string& where = "") {
  const auto refuse = [&] {
    return std::invalid_argument(where_prefix(where) + key + " must be " + describe_integers(min, max) + ", got " +
                                 j.dump());
  };
  if (j.is_number_unsigned()) {
    const auto v = j.get<unsigned long long>();
    if (v > static_cast<unsigned long long>(std::numeric_limits<long long>::max()) || static_cast<long long>(v) > max ||
        static_cast<long long>(v) < min)
      throw refuse();
    return static_cast<long long>(v);
  }
  if (j.is_number_integer()) {
    const auto v = j.get<long long>();
    if (v < min || v > max) throw refuse();
    return v;
  }
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!(v == std::floor(v)) || v < static_cast<double>(min) || v > static_cast<double>(max)) throw refuse();
    return static_cast<long long>(v);
  }
  throw refuse();
}

/// Bounds of a real option: min <= x (min < x when min_open) and x <= max
/// (x < max when max_open); always finite.
struct RealRange {
  double min = -std::numeric_limits<double>::infinity();
  bool min_open = false;
  double max = std::numeric_limits<double>::infinity();
  bool max_open = false;
  bool contains(double v) const {
    return std::isfinite(v) && (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max);
  }
  std::string describe() const {
    const auto number = [](double v) { return nlohmann::json(v).dump(); };
    if (std::isinf(max)) return std::string(min_open ? "> " : ">= ") + number(min);
    return std::string(min_open ? "in (" : "in [") + number(min) + ", " + number(max) + (max_open ? ")" : "]");
  }
};

inline double read_real(const nlohmann::json& j, const std::string& key, const RealRange& range,
                        const std::string& where = "") {
  if (!j.is_number() || !range.contains(j.get<double>()))
    throw std::invalid_argument(where_prefix(where) + key + " must be a number " + range.describe() + ", got " + j.dump());
  return j.get<double>();
}

inline bool read_flag(const nlohmann::json& j, const std::string& key, const std::string& where = "") {
  if (!j.is_boolean()) throw std::invalid_argument(where_prefix(where) + key + " must be true or false, got " + j.dump());
  return j.get<bool>();
}

// ------------------------------------------------------------------- records

/// One key of an option record.
template <typename S>
struct OptionField {
  std::string key;
  /// What the key takes, for messages and help texts ("integer in [1, 1000]").
  std::string type;
  /// The selector values (e.g. types) the key applies to; empty: all.
  std::vector<std::string> only;
  /// Reads the key's value into the record; `key` is the name messages give it.
  std::function<void(const nlohmann::json&, S&, const std::string& key, const std::string& where)> read;
  std::function<nlohmann::json(const S&)> write;
  /// Range check of the value held (records built in code bypass `read`).
  std::function<void(const S&, const std::string& key, const std::string& where)> check;
  /// Optional: when it returns true the key is left out of the JSON written
  /// (an unset optional setting such as a descriptor's plane -1).
  std::function<bool(const S&)> omitted;
};

/// Builders of the fields of record S; `get` is a generic lambda returning a
/// reference to the member, e.g. [](auto& o) -> auto& { return o.knn; }.
template <typename S>
struct Fields {
  using Field = OptionField<S>;

  template <typename Get>
  static Field integer(std::string key, Get get, long long min, long long max, std::vector<std::string> only = {}) {
    Field f{key, describe_integers(min, max), std::move(only), {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) {
      using T = std::decay_t<decltype(get(s))>;
      get(s) = static_cast<T>(read_integer(j, key, min, max, where));
    };
    f.write = [=](const S& s) { return nlohmann::json(get(s)); };
    f.check = [=](const S& s, const std::string& key, const std::string& where) { read_integer(nlohmann::json(get(s)), key, min, max, where); };
    return f;
  }

  template <typename Get>
  static Field real(std::string key, Get get, RealRange range, std::vector<std::string> only = {}) {
    Field f{key, "number " + range.describe(), std::move(only), {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) { get(s) = read_real(j, key, range, where); };
    f.write = [=](const S& s) { return nlohmann::json(get(s)); };
    f.check = [=](const S& s, const std::string& key, const std::string& where) {
      if (!range.contains(get(s)))
        throw std::invalid_argument(where_prefix(where) + key + " must be a number " + range.describe() + ", got " +
                                    nlohmann::json(get(s)).dump());
    };
    return f;
  }

  template <typename Get>
  static Field flag(std::string key, Get get, std::vector<std::string> only = {}) {
    Field f{key, "true or false", std::move(only), {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) { get(s) = read_flag(j, key, where); };
    f.write = [=](const S& s) { return nlohmann::json(get(s)); };
    f.check = [](const S&, const std::string&, const std::string&) {};
    return f;
  }

  /// An enum value, spelt as its table says.
  template <typename Get>
  static Field choice(std::string key, Get get, std::vector<std::string> only = {}) {
    using E = std::decay_t<decltype(get(std::declval<S&>()))>;
    Field f{key, "one of " + enum_names(E{}).choices(), std::move(only), {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) { get(s) = enum_names(E{}).read(j, key, where); };
    f.write = [=](const S& s) { return nlohmann::json(name_of(get(s))); };
    f.check = [](const S&, const std::string&, const std::string&) {};
    return f;
  }

  /// A list of enum values (e.g. normalisation steps), possibly empty.
  template <typename Get>
  static Field choices(std::string key, Get get, std::vector<std::string> only = {}) {
    using E = typename std::decay_t<decltype(get(std::declval<S&>()))>::value_type;
    Field f{key, "list of " + enum_names(E{}).choices(), std::move(only), {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) {
      if (!j.is_array()) throw std::invalid_argument(where_prefix(where) + key + " must be a list, got " + j.dump());
      std::vector<E> values;
      for (const auto& item : j) values.push_back(enum_names(E{}).read(item, key, where));
      get(s) = std::move(values);
    };
    f.write = [=](const S& s) {
      nlohmann::json list = nlohmann::json::array();
      for (E v : get(s)) list.push_back(name_of(v));
      return list;
    };
    f.check = [](const S&, const std::string&, const std::string&) {};
    return f;
  }

  /// A list of integers, each in [min, max]; non-empty unless `may_be_empty`.
  template <typename Get>
  static Field integers(std::string key, Get get, long long min, long long max, bool may_be_empty = false) {
    const std::string list = may_be_empty ? "a list" : "a non-empty list";
    Field f{key, list + " of integers, each " + describe_integers(min, max), {}, {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) {
      if (!j.is_array() || (j.empty() && !may_be_empty))
        throw std::invalid_argument(where_prefix(where) + key + " must be " + list + " of integers, got " + j.dump());
      using T = typename std::decay_t<decltype(get(s))>::value_type;
      std::vector<T> values;
      for (const auto& item : j) values.push_back(static_cast<T>(read_integer(item, key, min, max, where)));
      get(s) = std::move(values);
    };
    f.write = [=](const S& s) { return nlohmann::json(get(s)); };
    f.check = [=](const S& s, const std::string& key, const std::string& where) {
      if (get(s).empty() && !may_be_empty) throw std::invalid_argument(where_prefix(where) + key + " must not be empty");
      for (auto v : get(s)) read_integer(nlohmann::json(v), key, min, max, where);
    };
    return f;
  }

  /// A non-empty list of pairs of integers, each in [min, max] (e.g. pyramid grids [columns, rows]).
  template <typename Get>
  static Field pairs(std::string key, Get get, long long min, long long max, std::vector<std::string> only = {}) {
    Field f{key, "a non-empty list of pairs [a, b], each " + describe_integers(min, max), std::move(only), {}, {}, {}, {}};
    f.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) {
      if (!j.is_array() || j.empty())
        throw std::invalid_argument(where_prefix(where) + key + " must be a non-empty list of pairs, got " + j.dump());
      std::vector<std::array<int, 2>> values;
      for (const auto& item : j) {
        if (!item.is_array() || item.size() != 2)
          throw std::invalid_argument(where_prefix(where) + key + " entries must be pairs [a, b], got " + item.dump());
        values.push_back({static_cast<int>(read_integer(item[0], key, min, max, where)),
                          static_cast<int>(read_integer(item[1], key, min, max, where))});
      }
      get(s) = std::move(values);
    };
    f.write = [=](const S& s) { return nlohmann::json(get(s)); };
    f.check = [=](const S& s, const std::string& key, const std::string& where) {
      if (get(s).empty()) throw std::invalid_argument(where_prefix(where) + key + " must not be empty");
      for (const auto& v : get(s))
        for (int x : v) read_integer(nlohmann::json(x), key, min, max, where);
    };
    return f;
  }
};

/// The fields of a member record (reached by `get`, a generic lambda as
/// above) as fields of S: one definition of each key, whether it is read on
/// its own or inside a larger section. `rename` gives keys another spelling
/// in S; `only` restricts them to some selector values of S; `part`, when
/// given, names the member record in messages ("where: part: key ...").
template <typename S, typename T, typename Get>
std::vector<OptionField<S>> lift(const std::vector<OptionField<T>>& inner, Get get,
                                 const std::vector<std::pair<std::string, std::string>>& rename = {},
                                 std::vector<std::string> only = {}, const std::string& part = "") {
  const auto inside = [part](const std::string& where) {
    return part.empty() ? where : where_prefix(where) + part;
  };
  std::vector<OptionField<S>> out;
  for (const OptionField<T>& f : inner) {
    OptionField<S> g{f.key, f.type, only, {}, {}, {}, {}};
    for (const auto& [from, to] : rename)
      if (from == f.key) g.key = to;
    g.read = [=](const nlohmann::json& j, S& s, const std::string& key, const std::string& where) {
      f.read(j, get(s), key, inside(where));
    };
    g.write = [=](const S& s) { return f.write(get(s)); };
    g.check = [=](const S& s, const std::string& key, const std::string& where) { f.check(get(s), key, inside(where)); };
    if (f.omitted) g.omitted = [=](const S& s) { return f.omitted(get(s)); };
    out.push_back(std::move(g));
  }
  return out;
}

/// The schema of option record S: its fields in order. `selector` names the
/// key (e.g. "type") whose value decides which keys apply (OptionField::only).
template <typename S>
class OptionSchema {
 public:
  OptionSchema(std::vector<OptionField<S>> fields, std::string selector = "")
      : fields_(std::move(fields)), selector_(std::move(selector)) {}

  const std::vector<OptionField<S>>& fields() const { return fields_; }

  /// Every key of the record.
  std::set<std::string> keys() const {
    std::set<std::string> k;
    for (const auto& f : fields_) k.insert(f.key);
    return k;
  }
  /// The keys a record whose selector is `selected` takes.
  std::set<std::string> keys(const std::string& selected) const {
    std::set<std::string> k;
    for (const auto& f : fields_)
      if (applies(f, selected)) k.insert(f.key);
    return k;
  }
  /// The keys only some selector values take (dropped when another is chosen).
  std::set<std::string> specific_keys() const {
    std::set<std::string> k;
    for (const auto& f : fields_)
      if (!f.only.empty()) k.insert(f.key);
    return k;
  }
  /// The selector's value of a record ("" without a selector).
  std::string selected(const S& s) const {
    for (const auto& f : fields_)
      if (f.key == selector_) return f.write(s).template get<std::string>();
    return "";
  }

  /// Reads the keys present in `j` over `base` (default: the record's defaults),
  /// refusing unknown keys, keys the selected type does not take, and values
  /// of the wrong kind or out of range, each named with `where`.
  S read(const nlohmann::json& j, const std::string& where, S base = S{}) const {
    check_keys(j, keys(), where);
    S s = std::move(base);
    for (const auto& f : fields_)
      if (j.contains(f.key)) f.read(j.at(f.key), s, f.key, where);
    const std::string type = selected(s);
    for (const auto& f : fields_)
      if (j.contains(f.key) && !applies(f, type))
        throw std::invalid_argument(where_prefix(where) + "\"" + f.key + "\" does not apply to " + selector_ + " \"" +
                                    type + "\" (only " + join_names(f.only) + ")");
    return s;
  }

  /// The keys that apply to the record, with their values.
  nlohmann::json write(const S& s) const {
    nlohmann::json j = nlohmann::json::object();
    const std::string type = selected(s);
    for (const auto& f : fields_)
      if (applies(f, type) && !(f.omitted && f.omitted(s))) j[f.key] = f.write(s);
    return j;
  }

  /// The range checks of every key that applies.
  void check(const S& s, const std::string& where) const {
    const std::string type = selected(s);
    for (const auto& f : fields_)
      if (applies(f, type)) f.check(s, f.key, where);
  }

 private:
  static bool applies(const OptionField<S>& f, const std::string& selected) {
    if (f.only.empty()) return true;
    for (const auto& o : f.only)
      if (o == selected) return true;
    return false;
  }

  std::vector<OptionField<S>> fields_;
  std::string selector_;
};

}  // namespace pixelwise
