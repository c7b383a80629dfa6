// Go text/template execution (text/template/exec.go of Go 1.19) over JSON values: the same
// evaluation order, variable scoping, argument checks and error wording.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

// Control flow of {{break}} and {{continue}}, thrown through the walk of a range body.
struct BreakSignal {};

struct ContinueSignal {};

std::string ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kValue:
      return "reflect.Value";
    case ParamType::kAny:
      return "interface {}";
    case ParamType::kString:
      return "string";
    case ParamType::kFloat:
      return "float64";
    case ParamType::kInt:
      return "int";
    case ParamType::kBool:
      return "bool";
    case ParamType::kStringSlice:
      return "[]string";
    case ParamType::kSamples:
      return "template.queryResult";
    case ParamType::kSample:
      return "*template.sample";
  }
  return "";
}

bool IsStringArray(const nlohmann::json& j) {
  if (!j.is_array()) {
    return false;
  }
  for (const auto& e : j) {
    if (!e.is_string()) {
      return false;
    }
  }
  return true;
}

// The node an error refers to, as Go's state.node.
struct Where {
  size_t pos = 0;
  const Arg* arg = nullptr;
  const Command* cmd = nullptr;
  const Pipe* pipe = nullptr;
  const Node* node = nullptr;
};

class State {
 public:
  State(const Common& common, const Tree& tree, const TemplateOptions& options, std::string* out)
      : common_(common), tree_(&tree), options_(options), out_(out) {}

  void Run(Value dot, const std::map<std::string, nlohmann::json>& variables) {
    if (!common_.data_struct_type.empty() && dot.json.is_object()) {
      dot.struct_type = &common_.data_struct_type;
    }
    vars_.push_back({"$", dot});
    for (const auto& [name, value] : variables) {
      vars_.push_back({name, Value::Json(value)});
    }
    WalkList(dot, tree_->root);
  }

 private:
  struct Variable {
    std::string name;
    Value value;
  };

  // ---- Errors ----

  void At(const Arg& arg) { where_ = Where{arg.pos, &arg, nullptr, nullptr, nullptr}; }

  void At(const Command& cmd) { where_ = Where{cmd.pos, nullptr, &cmd, nullptr, nullptr}; }

  void At(const Pipe& pipe) { where_ = Where{pipe.pos, nullptr, nullptr, &pipe, nullptr}; }

  void At(const Node& node) { where_ = Where{node.pos, nullptr, nullptr, nullptr, &node}; }

  std::string WhereString() const {
    if (where_.arg != nullptr) {
      return ArgString(*where_.arg);
    }
    if (where_.cmd != nullptr) {
      return CommandString(*where_.cmd);
    }
    if (where_.pipe != nullptr) {
      return PipeString(*where_.pipe);
    }
    const Node& n = *where_.node;
    std::string pipe = n.pipe ? PipeString(*n.pipe) : "";
    switch (n.type) {
      case NodeType::kAction:
        return "{{" + pipe + "}}";
      case NodeType::kTemplate: {
        std::string s = "{{template \"" + n.text + "\"";
        return s + (n.pipe ? " " + pipe : "") + "}}";
      }
      case NodeType::kIf:
        return "{{if " + pipe + "}}";
      case NodeType::kRange:
        return "{{range " + pipe + "}}";
      case NodeType::kWith:
        return "{{with " + pipe + "}}";
      default:
        return "";
    }
  }

  [[noreturn]] void Errorf(const std::string& message) {
    if (where_.arg == nullptr && where_.cmd == nullptr && where_.pipe == nullptr &&
        where_.node == nullptr) {
      throw ExecError{"template: " + tree_->name + ": " + message};
    }
    const std::string& text = *tree_->source;
    size_t pos = std::min(where_.pos, text.size());
    size_t line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    size_t column = (line_start == std::string::npos || pos == 0) ? pos : pos - line_start - 1;
    int line = 1;
    for (size_t i = 0; i < pos; ++i) {
      line += text[i] == '\n' ? 1 : 0;
    }
    if (line == 1) {
      column += common_.message_column_offset;
    }
    throw ExecError{"template: " + tree_->parse_name + ":" + std::to_string(line) + ":" +
                    std::to_string(column) + ": executing \"" + tree_->name + "\" at <" +
                    WhereString() + ">: " + message};
  }

  // ---- Variables ----

  size_t Mark() const { return vars_.size(); }

  void Pop(size_t mark) { vars_.resize(mark); }

  void SetVar(const std::string& name, const Value& value) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        vars_[i].value = value;
        return;
      }
    }
    Errorf("undefined variable: " + name);
  }

  Value VarValue(const std::string& name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        return vars_[i].value;
      }
    }
    Errorf("undefined variable: " + name);
  }

  // ---- Walk ----

  void WalkList(const Value& dot, const std::vector<Node>& list) {
    for (const Node& n : list) {
      Walk(dot, n);
    }
  }

  // Fails the execution once the output is over options_.max_output_bytes, so a template
  // that loops over large data stops there instead of building an unbounded string.
  void CheckOutputSize() {
    if (options_.max_output_bytes > 0 && out_->size() > options_.max_output_bytes) {
      if (where_.node != nullptr && where_.node->type == NodeType::kText) {
        where_ = Where{};  // plain text has no action to name, so the message names none
      }
      Errorf("template output is longer than the maximum of " +
             std::to_string(options_.max_output_bytes) +
             " bytes; shorten the output or raise limits.max_template_output");
    }
  }

  void Walk(const Value& dot, const Node& n) {
    where_ = Where{n.pos, nullptr, nullptr, nullptr, &n};
    switch (n.type) {
      case NodeType::kText:
        *out_ += n.text;
        CheckOutputSize();
        return;
      case NodeType::kAction: {
        Value v = EvalPipeline(dot, n.pipe.get());
        if (n.pipe->decl.empty()) {
          At(n);
          // A JSON null is a nil interface{} in a Go map, which prints as a missing value.
          *out_ += v.IsValid() && !v.IsNil() ? GoPrint(v) : "<no value>";
          CheckOutputSize();
        }
        return;
      }
      case NodeType::kIf:
      case NodeType::kWith:
        WalkIfOrWith(dot, n);
        return;
      case NodeType::kRange:
        WalkRange(dot, n);
        return;
      case NodeType::kTemplate:
        WalkTemplate(dot, n);
        return;
      case NodeType::kBreak:
        throw BreakSignal{};
      case NodeType::kContinue:
        throw ContinueSignal{};
    }
  }

  void WalkIfOrWith(const Value& dot, const Node& n) {
    size_t mark = Mark();
    Value v = EvalPipeline(dot, n.pipe.get());
    bool ok = true;
    bool truth = IsTrue(v, &ok);
    if (!ok) {
      Errorf("if/with can't use " + GoPrint(v));
    }
    if (truth) {
      WalkList(n.type == NodeType::kWith ? v : dot, n.list);
    } else {
      WalkList(dot, n.else_list);
    }
    Pop(mark);
  }

  void RangeIteration(const Node& n, const Value& index, const Value& elem, size_t mark) {
    const Pipe& pipe = *n.pipe;
    if (!pipe.decl.empty()) {
      if (pipe.is_assign) {
        SetVar(pipe.decl[0], pipe.decl.size() > 1 ? index : elem);
      } else {
        vars_[vars_.size() - 1].value = elem;
      }
    }
    if (pipe.decl.size() > 1) {
      if (pipe.is_assign) {
        SetVar(pipe.decl[1], elem);
      } else {
        vars_[vars_.size() - 2].value = index;
      }
    }
    try {
      WalkList(elem, n.list);
    } catch (const ContinueSignal&) {
    }
    Pop(mark);
  }

  void WalkRange(const Value& dot, const Node& n) {
    At(n);
    size_t outer_mark = Mark();
    Value v = EvalPipeline(dot, n.pipe.get());
    size_t mark = Mark();
    bool iterated = false;
    try {
      if (v.kind == Value::Kind::kJson && v.json.is_array() && !v.json.empty()) {
        iterated = true;
        for (size_t i = 0; i < v.json.size(); ++i) {
          RangeIteration(n, Value::Json(static_cast<int64_t>(i)), Value::Json(v.json[i]), mark);
        }
      } else if (v.kind == Value::Kind::kJson && v.json.is_object() && !v.json.empty()) {
        iterated = true;
        for (const auto& [key, elem] : v.json.items()) {
          RangeIteration(n, Value::Json(key), Value::Json(elem), mark);
        }
      } else if (v.IsValid() && !v.IsNil() && !(v.json.is_array() || v.json.is_object())) {
        Errorf("range can't iterate over " + GoPrint(v));
      }
    } catch (const BreakSignal&) {
      Pop(mark);
    }
    if (!iterated) {
      WalkList(dot, n.else_list);
    }
    Pop(outer_mark);
  }

  void WalkTemplate(const Value& dot, const Node& n) {
    At(n);
    auto it = common_.trees.find(n.text);
    if (it == common_.trees.end()) {
      Errorf("template \"" + n.text + "\" not defined");
    }
    if (depth_ >= options_.max_depth) {
      Errorf("exceeded maximum template depth (" + std::to_string(options_.max_depth) + ")");
    }
    Value new_dot = EvalPipeline(dot, n.pipe.get());
    State inner(common_, *it->second, options_, out_);
    inner.depth_ = depth_ + 1;
    // No dynamic scoping: the called template sees only $.
    inner.vars_.push_back({"$", new_dot});
    inner.WalkList(new_dot, it->second->root);
  }

  // ---- Evaluation ----

  Value EvalPipeline(const Value& dot, const Pipe* pipe) {
    if (pipe == nullptr) {
      return Value::Invalid();
    }
    At(*pipe);
    std::optional<Value> value;
    for (const Command& cmd : pipe->cmds) {
      value = EvalCommand(dot, cmd, value);
    }
    for (const std::string& name : pipe->decl) {
      if (pipe->is_assign) {
        SetVar(name, *value);
      } else {
        vars_.push_back({name, *value});
      }
    }
    return *value;
  }

  void NotAFunction(const std::vector<Arg>& args, const std::optional<Value>& final) {
    if (args.size() > 1 || final.has_value()) {
      Errorf("can't give argument to non-function " + ArgString(args[0]));
    }
  }

  Value EvalCommand(const Value& dot, const Command& cmd, const std::optional<Value>& final) {
    const Arg& first = cmd.args[0];
    switch (first.type) {
      case ArgType::kField:
        At(first);
        return EvalFieldChain(dot, dot, first, first.idents, 0, &cmd.args, final);
      case ArgType::kChain:
        return EvalChain(dot, first, &cmd.args, final);
      case ArgType::kIdentifier:
        return EvalFunction(dot, first, &cmd, &cmd.args, final);
      case ArgType::kPipe:
        NotAFunction(cmd.args, final);
        return EvalPipeline(dot, first.pipe.get());
      case ArgType::kVariable:
        return EvalVariable(dot, first, &cmd.args, final);
      default:
        break;
    }
    At(first);
    NotAFunction(cmd.args, final);
    switch (first.type) {
      case ArgType::kBool:
        return Value::Json(first.boolean);
      case ArgType::kDot:
        return dot;
      case ArgType::kNil:
        Errorf("nil is not a command");
      case ArgType::kNumber:
        return IdealConstant(first);
      case ArgType::kString:
        return Value::Json(first.str);
      default:
        Errorf("can't evaluate command " + ArgString(first));
    }
  }

  Value IdealConstant(const Arg& arg) {
    const Number& n = arg.number;
    const std::string& text = n.text;
    bool hex_int = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
                   text.find_first_of("pP") == std::string::npos;
    bool rune = !text.empty() && text[0] == '\'';
    if (n.is_float && !hex_int && !rune && text.find_first_of(".eEpP") != std::string::npos) {
      return Value::Json(n.f);
    }
    if (n.is_int) {
      return Value::Json(n.i);
    }
    if (n.is_uint) {
      Errorf(text + " overflows int");
    }
    return Value::Invalid();
  }

  Value EvalVariable(const Value& dot,
                     const Arg& var,
                     const std::vector<Arg>* args,
                     const std::optional<Value>& final) {
    At(var);
    Value value = VarValue(var.idents[0]);
    if (var.idents.size() == 1) {
      if (args != nullptr) {
        NotAFunction(*args, final);
      }
      return value;
    }
    return EvalFieldChain(dot, value, var, var.idents, 1, args, final);
  }

  Value EvalChain(const Value& dot,
                  const Arg& chain,
                  const std::vector<Arg>* args,
                  const std::optional<Value>& final) {
    At(chain);
    if (chain.base->type == ArgType::kNil) {
      Errorf("indirection through explicit nil in " + ArgString(chain));
    }
    Value base = EvalArg(dot, ParamType::kValue, *chain.base);
    return EvalFieldChain(dot, base, chain, chain.idents, 0, args, final);
  }

  Value EvalFieldChain(const Value& dot,
                       Value receiver,
                       const Arg& node,
                       const std::vector<std::string>& idents,
                       size_t first,
                       const std::vector<Arg>* args,
                       const std::optional<Value>& final) {
    for (size_t i = first; i + 1 < idents.size(); ++i) {
      receiver = EvalField(dot, idents[i], node, nullptr, std::nullopt, receiver);
    }
    return EvalField(dot, idents.back(), node, args, final, receiver);
  }

  Value EvalField(const Value& dot,
                  const std::string& name,
                  const Arg& node,
                  const std::vector<Arg>* args,
                  const std::optional<Value>& final,
                  const Value& receiver) {
    if (!receiver.IsValid()) {
      return Value::Invalid();
    }
    // As in Go, a method of the receiver wins over a map key of the same name.
    if (const FuncSpec* method = FindMethod(common_.dialect, receiver, name)) {
      return EvalCall(
          dot, *method, name, [this, &node] { At(node); }, args, final, &receiver);
    }
    bool has_args = (args != nullptr && args->size() > 1) || final.has_value();
    if (receiver.kind == Value::Kind::kJson && receiver.json.is_object()) {
      if (has_args) {
        Errorf(name + " is not a method but has arguments");
      }
      auto it = receiver.json.find(name);
      if (it != receiver.json.end()) {
        return FieldValue(name, *it);
      }
      if (receiver.struct_type != nullptr) {
        Errorf("can't evaluate field " + name + " in type " + *receiver.struct_type);
      }
      if (options_.missing_key == MissingKey::kZero && IsStringMap(receiver.json)) {
        return Value::Json("");
      }
      return Value::Invalid();
    }
    if (receiver.IsNil()) {
      Errorf("nil pointer evaluating interface {}." + name);
    }
    Errorf("can't evaluate field " + name + " in type " + GoTypeName(receiver));
  }

  // Calls the function `ident`; `cmd` is the command it heads, or null for a function used as
  // an argument, which Go's errors then name by itself.
  // A field's value. Alertmanager's Alert.StartsAt and EndsAt are time.Time, which JSON
  // data carries as RFC 3339 strings.
  Value FieldValue(const std::string& name, const nlohmann::json& value) const {
    Value time;
    if (common_.dialect == TemplateDialect::kAlertmanager &&
        (name == "StartsAt" || name == "EndsAt") && value.is_string() &&
        ParseRfc3339(value.get_ref<const std::string&>(), &time)) {
      return time;
    }
    return Value::Json(value);
  }

  Value EvalFunction(const Value& dot,
                     const Arg& ident,
                     const Command* cmd,
                     const std::vector<Arg>* args,
                     const std::optional<Value>& final) {
    At(ident);
    const std::string& name = ident.idents[0];
    if (name == "and" || name == "or") {
      return EvalAndOr(dot, name, args, final);
    }
    const auto& functions = Functions(common_.dialect);
    auto it = functions.find(name);
    if (it == functions.end()) {
      Errorf("\"" + name + "\" is not a defined function");
    }
    auto at_node = [this, &ident, cmd] {
      if (cmd != nullptr) {
        At(*cmd);
      } else {
        At(ident);
      }
    };
    return EvalCall(dot, it->second, name, at_node, args, final, nullptr);
  }

  Value EvalAndOr(const Value& dot,
                  const std::string& name,
                  const std::vector<Arg>* args,
                  const std::optional<Value>& final) {
    size_t n = args == nullptr ? 0 : args->size() - 1;
    size_t num_in = n + (final.has_value() ? 1 : 0);
    if (num_in < 1) {
      Errorf("wrong number of args for " + name + ": want at least 1 got " + std::to_string(n));
    }
    Value v;
    for (size_t i = 0; i < n; ++i) {
      v = EvalArg(dot, ParamType::kValue, (*args)[i + 1]);
      bool ok = true;
      if (IsTrue(v, &ok) == (name == "or")) {
        return v;
      }
    }
    if (final.has_value()) {
      v = *final;
    }
    return v;
  }

  // Calls a function or, with `receiver`, a method. `at_node` points errors from the call
  // at the node Go blames: the command for functions, the field for methods.
  Value EvalCall(const Value& dot,
                 const FuncSpec& spec,
                 const std::string& name,
                 const std::function<void()>& at_node,
                 const std::vector<Arg>* args,
                 const std::optional<Value>& final,
                 const Value* receiver) {
    size_t n = args == nullptr ? 0 : args->size() - 1;
    size_t num_in = n + (final.has_value() ? 1 : 0);
    size_t num_params = spec.params.size();
    size_t num_fixed = n;
    if (spec.variadic) {
      num_fixed = num_params - 1;
      if (num_in < num_fixed) {
        Errorf("wrong number of args for " + name + ": want at least " +
               std::to_string(num_params - 1) + " got " + std::to_string(n));
      }
    } else if (num_in != num_params) {
      Errorf("wrong number of args for " + name + ": want " + std::to_string(num_params) + " got " +
             std::to_string(num_in));
    }
    std::vector<Value> argv;
    size_t i = 0;
    for (; i < num_fixed && i < n; ++i) {
      argv.push_back(EvalArg(dot, spec.params[i], (*args)[i + 1]));
    }
    if (spec.variadic) {
      for (; i < n; ++i) {
        argv.push_back(EvalArg(dot, spec.params.back(), (*args)[i + 1]));
      }
    }
    if (final.has_value()) {
      ParamType type = spec.params.back();
      if (spec.variadic && num_in - 1 < num_fixed) {
        type = spec.params[num_in - 1];
      }
      argv.push_back(ValidateType(*final, type));
    }
    if (receiver != nullptr) {
      argv.insert(argv.begin(), *receiver);
    }
    CallContext context{&options_};
    try {
      return spec.fn(context, argv);
    } catch (const FuncError& e) {
      at_node();
      Errorf("error calling " + name + ": " + e.message);
    }
  }

  Value ValidateType(const Value& value, ParamType type) {
    if (type == ParamType::kValue) {
      return value;
    }
    if (!value.IsValid()) {
      if (type == ParamType::kAny || type == ParamType::kStringSlice ||
          type == ParamType::kSamples || type == ParamType::kSample) {
        return Value::Json(nullptr);
      }
      Errorf("invalid value; expected " + ParamTypeName(type));
    }
    bool ok = false;
    const nlohmann::json& j = value.json;
    bool is_json = value.kind == Value::Kind::kJson;
    switch (type) {
      case ParamType::kValue:
      case ParamType::kAny:
        ok = true;
        break;
      case ParamType::kString:
        ok = is_json && j.is_string();
        break;
      case ParamType::kFloat:
        ok = is_json && j.is_number_float();
        break;
      case ParamType::kInt:
        ok = is_json && (j.is_number_integer());
        break;
      case ParamType::kBool:
        ok = is_json && j.is_boolean();
        break;
      case ParamType::kStringSlice:
        ok = is_json && (j.is_null() || IsStringArray(j));
        break;
      case ParamType::kSamples:
        ok = is_json && (j.is_null() || j.is_array());
        break;
      case ParamType::kSample:
        ok = is_json && (j.is_null() || j.is_object());
        break;
    }
    if (!ok) {
      Errorf("wrong type for value; expected " + ParamTypeName(type) + "; got " +
             GoTypeName(value));
    }
    return value;
  }

  Value EvalArg(const Value& dot, ParamType type, const Arg& n) {
    At(n);
    switch (n.type) {
      case ArgType::kDot:
        return ValidateType(dot, type);
      case ArgType::kNil:
        if (type == ParamType::kValue || type == ParamType::kAny ||
            type == ParamType::kStringSlice || type == ParamType::kSamples ||
            type == ParamType::kSample) {
          return Value::Json(nullptr);
        }
        Errorf("cannot assign nil to " + ParamTypeName(type));
      case ArgType::kField:
        return ValidateType(EvalFieldChain(dot, dot, n, n.idents, 0, nullptr, std::nullopt), type);
      case ArgType::kVariable:
        return ValidateType(EvalVariable(dot, n, nullptr, std::nullopt), type);
      case ArgType::kPipe:
        return ValidateType(EvalPipeline(dot, n.pipe.get()), type);
      case ArgType::kIdentifier:
        return ValidateType(EvalFunction(dot, n, nullptr, nullptr, std::nullopt), type);
      case ArgType::kChain:
        return ValidateType(EvalChain(dot, n, nullptr, std::nullopt), type);
      default:
        break;
    }
    switch (type) {
      case ParamType::kBool:
        if (n.type == ArgType::kBool) {
          return Value::Json(n.boolean);
        }
        Errorf("expected bool; found " + ArgString(n));
      case ParamType::kString:
        if (n.type == ArgType::kString) {
          return Value::Json(n.str);
        }
        Errorf("expected string; found " + ArgString(n));
      case ParamType::kInt:
        if (n.type == ArgType::kNumber && n.number.is_int) {
          return Value::Json(n.number.i);
        }
        Errorf("expected integer; found " + ArgString(n));
      case ParamType::kFloat:
        if (n.type == ArgType::kNumber && n.number.is_float) {
          return Value::Json(n.number.f);
        }
        Errorf("expected float; found " + ArgString(n));
      case ParamType::kValue:
      case ParamType::kAny:
        switch (n.type) {
          case ArgType::kBool:
            return Value::Json(n.boolean);
          case ArgType::kNumber:
            return IdealConstant(n);
          case ArgType::kString:
            return Value::Json(n.str);
          default:
            break;
        }
        Errorf("can't handle assignment of " + ArgString(n) + " to empty interface argument");
      default:
        Errorf("can't handle " + ArgString(n) + " for arg of type " + ParamTypeName(type));
    }
  }

  const Common& common_;
  const Tree* tree_;
  const TemplateOptions& options_;
  std::string* out_;
  std::vector<Variable> vars_;
  Where where_;
  int depth_ = 0;
};

}  // namespace

bool IsStringMap(const nlohmann::json& j) {
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return false;
    }
  }
  return true;
}

bool IsTrue(const Value& v, bool* ok) {
  *ok = true;
  switch (v.kind) {
    case Value::Kind::kInvalid:
      return false;
    case Value::Kind::kTime:
      return true;
    case Value::Kind::kJson:
      break;
  }
  const nlohmann::json& j = v.json;
  if (j.is_null()) {
    return false;
  }
  if (j.is_boolean()) {
    return j.get<bool>();
  }
  if (j.is_number_float()) {
    return j.get<double>() != 0;
  }
  if (j.is_number()) {
    return j.get<int64_t>() != 0;
  }
  if (j.is_string()) {
    return !j.get_ref<const std::string&>().empty();
  }
  return !j.empty();
}

void ExecuteTree(const Common& common,
                 const Tree& tree,
                 const nlohmann::json& data,
                 const std::map<std::string, nlohmann::json>& variables,
                 const TemplateOptions& options,
                 std::string* out) {
  State state(common, tree, options, out);
  try {
    state.Run(Value::Json(data), variables);
  } catch (const BreakSignal&) {
    // The parser rejects {{break}} outside {{range}}, so this cannot happen.
  } catch (const ContinueSignal&) {
  }
}

}  // namespace alertd::template_internal
