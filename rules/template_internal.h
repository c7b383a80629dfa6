// Internals of rules/template.h shared by its .cc files: tokens, the parse tree (shaped like
// Go's text/template/parse nodes), runtime values and the function table.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/template.h"

namespace alertd::template_internal {

// ---- Lexer -------------------------------------------------------------------------------

enum class TokenType {
  kText,
  kLeftDelim,   // "{{" or "{{- "
  kRightDelim,  // "}}" or " -}}"
  kComment,
  kSpace,
  kBool,
  kChar,  // 'x'
  kNumber,
  kString,     // "..." (val keeps the quotes and escapes)
  kRawString,  // `...`
  kIdentifier,
  kKeyword,   // if, else, end, range, with, define, template, block, break, continue, nil, dot
  kField,     // .Name
  kVariable,  // $ or $name
  kDeclare,   // :=
  kAssign,    // =
  kPunct,     // one of ( ) | , and any other printable ASCII character
  kEof,
  kError,  // val is the message
};

struct Token {
  TokenType type;
  std::string val;
  size_t pos;  // byte offset in the source text
  int line;    // 1-based
};

// Splits `text` into tokens as Go's text/template lexer does, trim markers applied to the
// text tokens. The last token is kEof or kError.
std::vector<Token> Lex(std::string_view text);

// Decodes a Go interpreted string literal (with quotes); false on invalid syntax.
bool UnquoteGoString(std::string_view literal, std::string* out);

// A Go number literal, classified as text/template/parse.NumberNode does.
struct Number {
  bool is_int = false;
  bool is_uint = false;
  bool is_float = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string text;
};

// Parses a number or char-constant token; false with `error` set when it is malformed.
bool ParseGoNumber(std::string_view text, bool is_char, Number* out, std::string* error);

// ---- Parse tree --------------------------------------------------------------------------

struct Pipe;

enum class ArgType {
  kDot,
  kNil,
  kBool,
  kNumber,
  kString,
  kField,       // .A.B: idents = {A, B}
  kVariable,    // $x.A.B: idents = {$x, A, B}
  kIdentifier,  // a function name
  kPipe,        // (pipeline)
  kChain,       // (pipeline).A.B or other term followed by fields: base + idents
};

struct Arg {
  ArgType type;
  size_t pos = 0;
  std::vector<std::string> idents;
  std::string str;  // kString: decoded value; the quoted source is in `quoted`
  std::string quoted;
  bool boolean = false;
  Number number;
  std::shared_ptr<Pipe> pipe;  // kPipe
  std::shared_ptr<Arg> base;   // kChain
};

struct Command {
  size_t pos = 0;
  std::vector<Arg> args;
};

struct Pipe {
  size_t pos = 0;
  bool is_assign = false;
  std::vector<std::string> decl;  // variable names with '$'
  std::vector<Command> cmds;
};

enum class NodeType { kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue };

struct Node {
  NodeType type;
  size_t pos = 0;
  std::string text;  // kText; kTemplate: the called template's name
  std::shared_ptr<Pipe> pipe;
  std::vector<Node> list;
  std::vector<Node> else_list;
};

// One named template. `source` is the whole text it was parsed from, for error positions.
struct Tree {
  std::string name;        // the template's own name (a define's name)
  std::string parse_name;  // the name of the top-level template whose text held it
  std::shared_ptr<const std::string> source;
  std::vector<Node> root;
  bool IsEmpty() const;
};

// Named templates of one namespace plus the dialect they were parsed for.
struct Common {
  TemplateDialect dialect = TemplateDialect::kPrometheus;
  std::map<std::string, std::shared_ptr<const Tree>, std::less<>> trees;
  std::string main;  // name of the top-level template, empty for a TemplateSet
  std::vector<std::string> predeclared;
  size_t message_column_offset = 0;  // see ParseOptions
  std::string data_struct_type;      // see ParseOptions
};

// Parses `text` named `name` into `trees` (the top-level tree under `name` plus each define).
// Throws ParseError. A non-empty redefinition of a template already in `trees` is an error
// only when `allow_redefine` is false.
void ParseInto(std::string_view name,
               std::string_view text,
               TemplateDialect dialect,
               const std::vector<std::string>& predeclared,
               bool allow_redefine,
               std::map<std::string, std::shared_ptr<const Tree>, std::less<>>* trees);

struct ParseError {
  std::string message;  // full Go-style message
  int line;
  int column;
};

// Renders a node as Go's String() methods do, for error context.
std::string ArgString(const Arg& arg);
std::string CommandString(const Command& cmd);
std::string PipeString(const Pipe& pipe);

// ---- Values ------------------------------------------------------------------------------

// A runtime value: Go's reflect.Value restricted to what JSON data and the template
// functions produce. kInvalid is Go's invalid Value, printed as "<no value>".
struct Value {
  enum class Kind { kInvalid, kJson, kTime };
  Kind kind = Kind::kInvalid;
  nlohmann::json json;
  int64_t unix_seconds = 0;  // kTime: seconds since the Unix epoch
  int64_t nanos = 0;         // kTime: 0 to 999999999
  int offset_seconds = 0;    // kTime: the zone offset east of UTC that it prints in
  // For a JSON object that models a Go struct: the struct's type name, which a missing
  // field's error names. Null for objects that model maps.
  const std::string* struct_type = nullptr;

  static Value Invalid() { return Value{}; }

  static Value Json(nlohmann::json j) { return Value{Kind::kJson, std::move(j), 0, 0, 0, nullptr}; }

  // A time from nanoseconds since the Unix epoch.
  static Value Time(int64_t unix_nanos, int offset = 0);

  static Value Time(int64_t seconds, int64_t nanos, int offset) {
    return Value{Kind::kTime, nullptr, seconds, nanos, offset, nullptr};
  }

  bool IsValid() const { return kind != Kind::kInvalid; }

  bool IsString() const { return kind == Kind::kJson && json.is_string(); }

  bool IsNil() const { return kind == Kind::kJson && json.is_null(); }

  bool IsInt() const { return kind == Kind::kJson && json.is_number_integer(); }

  bool IsFloat() const { return kind == Kind::kJson && json.is_number_float(); }
};

// Go's type name of a value as %T and reflect print it.
std::string GoTypeName(const Value& v);

// fmt.Sprint of one value.
std::string GoPrint(const Value& v);

// fmt.Sprintf with Go's verbs over values; errors in the format are rendered into the
// output as Go does (%!d(string=x)).
std::string GoSprintf(std::string_view format, const std::vector<Value>& args);

// fmt.Sprint / fmt.Sprintln over values: Sprint adds spaces between operands when neither
// side is a string; Sprintln always adds spaces and a newline.
std::string GoSprint(const std::vector<Value>& args);
std::string GoSprintln(const std::vector<Value>& args);

// Go's strings.ToUpper and ToLower: each rune mapped by Unicode's simple case mapping. Bytes
// that are not valid UTF-8 are copied unchanged.
std::string GoToUpper(std::string_view s);
std::string GoToLower(std::string_view s);

// Alertmanager 0.25's `title`, cases.Title(language.AmericanEnglish) of golang.org/x/text:
// the first letter of each Unicode word (UAX #29) in title case, its other letters in lower
// case, so "hello wORLD o'neil" becomes "Hello World O'neil".
std::string CasesTitle(std::string_view s);

// Go's strings.TrimSpace: leading and trailing Unicode white space removed.
std::string GoTrimSpace(std::string_view s);

// Go's %.<prec>g, %.<prec>e, %.<prec>f with Go's exponent form (e+06).
std::string GoFormatFloat(double v, char verb, int prec);

// ---- Time ----------------------------------------------------------------------------------

// Go's Time.Format with its reference layout ("2006-01-02 15:04:05.999999999 -0700 MST").
// A zero offset prints as UTC; another offset has no zone name, so MST prints it as -0700.
std::string FormatGoTime(const Value& time, std::string_view layout);

// Go's Time.String.
std::string GoTimeString(const Value& time);

// Parses an RFC 3339 timestamp as time.Parse(time.RFC3339Nano, s) does.
// Years 1 to 9999 are accepted, as Go accepts them, so Go's zero time (0001-01-01) parses.
bool ParseRfc3339(std::string_view s, Value* time);

// ---- Execution ----------------------------------------------------------------------------

// An error from a function: becomes `error calling NAME: MESSAGE`.
struct FuncError {
  std::string message;
};

// The function-call context the evaluator gives a function.
struct CallContext {
  const TemplateOptions* options;
};

// Parameter types a function declares; the evaluator converts arguments as Go's reflection
// would and reports Go's errors for mismatches.
enum class ParamType {
  kValue,  // reflect.Value: any value, a missing one included
  kAny,    // interface{}: any value, a missing one as nil
  kString,
  kFloat,  // float64
  kInt,
  kBool,
  kStringSlice,  // []string: a JSON array of strings
  kSamples,      // Prometheus's queryResult: a JSON array of samples
  kSample,       // Prometheus's *sample: a JSON object {Labels, Value}
};

struct FuncSpec {
  std::vector<ParamType> params;
  bool variadic = false;  // the last param repeats
  // Returns the result; throws FuncError for an error return.
  std::function<Value(const CallContext&, std::vector<Value>&)> fn;
};

// The function map of a dialect, without Go's builtins that the evaluator handles itself
// (and, or, call).
const std::map<std::string, FuncSpec, std::less<>>& Functions(TemplateDialect dialect);

// The method `name` of `receiver`, or null. Methods take the receiver as their first
// argument. Time values (and RFC 3339 strings) have time.Time's methods; in the Alertmanager
// dialect, string maps have KV's methods (SortedPairs, Names, Values, Remove), arrays of
// {Name, Value} have Pairs' (Names, Values) and arrays of alerts have Alerts' (Firing,
// Resolved).
const FuncSpec* FindMethod(TemplateDialect dialect, const Value& receiver, std::string_view name);

// time.Time's methods that templates call.
const std::map<std::string, FuncSpec, std::less<>>& TimeMethods();

// Whether `name` is defined for templates of `dialect`, builtins included.
bool HasFunction(TemplateDialect dialect, std::string_view name);

// Whether a JSON object models a Go map[string]string (every value a string), whose
// missing keys read as "" where Go uses the element type's zero value.
bool IsStringMap(const nlohmann::json& j);

// Go's truth of a value (template.IsTrue); `ok` is false for values with no truth.
bool IsTrue(const Value& v, bool* ok);

// Executes `tree` of `common` into `out`. Throws ExecError.
struct ExecError {
  std::string message;
};

void ExecuteTree(const Common& common,
                 const Tree& tree,
                 const nlohmann::json& data,
                 const std::map<std::string, nlohmann::json>& variables,
                 const TemplateOptions& options,
                 std::string* out);

}  // namespace alertd::template_internal
