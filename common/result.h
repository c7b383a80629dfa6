// Error and result types used across module boundaries. alertd does not throw across modules:
// a fallible function returns Status or Result<T>, and exceptions from libraries (yaml-cpp,
// Spirit X3, nlohmann-json) are caught and converted where those libraries are called.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace alertd {

enum class ErrorCode {
  kInvalidArgument,  // bad user input: config, rule file, query, request body
  kNotFound,
  kIo,           // file system or socket failure
  kUnavailable,  // a remote peer failed or answered with an error; retrying may help
  kTimeout,
  kInternal,  // a bug in alertd
};

// A failure with a human-readable message. Errors about user input may carry the 1-based
// line and column they refer to (0 when unknown), relative to the text that was parsed.
class Error {
 public:
  Error(ErrorCode code, std::string message, int line = 0, int column = 0)
      : code_(code), message_(std::move(message)), line_(line), column_(column) {}

  static Error Invalid(std::string message, int line = 0, int column = 0) {
    return Error(ErrorCode::kInvalidArgument, std::move(message), line, column);
  }

  static Error NotFound(std::string message) {
    return Error(ErrorCode::kNotFound, std::move(message));
  }

  static Error Io(std::string message) { return Error(ErrorCode::kIo, std::move(message)); }

  static Error Unavailable(std::string message) {
    return Error(ErrorCode::kUnavailable, std::move(message));
  }

  static Error Timeout(std::string message) {
    return Error(ErrorCode::kTimeout, std::move(message));
  }

  static Error Internal(std::string message) {
    return Error(ErrorCode::kInternal, std::move(message));
  }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int column() const { return column_; }
  bool has_position() const { return line_ > 0; }

  // Returns a copy whose message is prefixed with `context: `, keeping code and position.
  Error WithContext(const std::string& context) const {
    return Error(code_, context + ": " + message_, line_, column_);
  }

 private:
  ErrorCode code_;
  std::string message_;
  int line_;
  int column_;
};

// Either a value of type T or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }

  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }

  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }

 private:
  std::variant<T, Error> data_;
};

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }

  // REQUIRES: !ok().
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

}  // namespace alertd
