// Go text/template parser (text/template/parse/parse.go of Go 1.19) over the tokens of
// template_lex.cc: same grammar, same checks and the same error wording.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

using TreeMap = std::map<std::string, std::shared_ptr<const Tree>, std::less<>>;

bool IsEmptyList(const std::vector<Node>& list) {
  for (const Node& n : list) {
    if (n.type != NodeType::kText) {
      return false;
    }
    if (n.text.find_first_not_of(" \t\r\n\v\f") != std::string::npos) {
      return false;
    }
  }
  return true;
}

bool IsKeyword(const Token& t, std::string_view word) {
  return t.type == TokenType::kKeyword && t.val == word;
}

bool IsPunct(const Token& t, char c) {
  return t.type == TokenType::kPunct && t.val.size() == 1 && t.val[0] == c;
}

// Go's %q of ASCII text.
std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
  return out + "\"";
}

// Go's item.String(): how a token is named in "unexpected ..." messages.
std::string TokenString(const Token& t) {
  if (t.type == TokenType::kEof) {
    return "EOF";
  }
  if (t.type == TokenType::kError) {
    return t.val;
  }
  if (t.type == TokenType::kKeyword) {
    return "<" + t.val + ">";
  }
  if (t.val.size() > 10) {
    return GoQuote(t.val.substr(0, 10)) + "...";
  }
  return GoQuote(t.val);
}

class Parser {
 public:
  Parser(std::string_view name,
         std::shared_ptr<const std::string> source,
         TemplateDialect dialect,
         std::vector<Token> tokens,
         TreeMap* tree_set)
      : parse_name_(name),
        source_(std::move(source)),
        dialect_(dialect),
        tokens_(std::move(tokens)),
        tree_set_(tree_set) {}

  // Parses the whole input: the top-level tree (returned) and the defines it contains.
  std::shared_ptr<Tree> ParseTop(const std::vector<std::string>& predeclared) {
    auto tree = NewTree(parse_name_);
    vars_ = {"$"};
    vars_.insert(vars_.end(), predeclared.begin(), predeclared.end());
    while (Peek().type != TokenType::kEof) {
      if (Peek().type == TokenType::kLeftDelim) {
        size_t saved = next_;
        Next();
        if (IsKeyword(NextNonSpace(), "define")) {
          ParseDefinition();
          continue;
        }
        next_ = saved;
      }
      Node n;
      Item item = TextOrAction(&n);
      if (item == Item::kEnd || item == Item::kElse) {
        Errorf("unexpected " + std::string(item == Item::kEnd ? "{{end}}" : "{{else}}"));
      }
      if (item == Item::kNode) {
        tree->root.push_back(std::move(n));
      }
    }
    return tree;
  }

 private:
  enum class Item { kNode, kComment, kEnd, kElse };

  std::shared_ptr<Tree> NewTree(std::string name) {
    auto tree = std::make_shared<Tree>();
    tree->name = std::move(name);
    tree->parse_name = parse_name_;
    tree->source = source_;
    return tree;
  }

  // Adds a define or block tree, as Go's Tree.add.
  void AddTree(std::shared_ptr<Tree> tree) {
    auto it = tree_set_->find(tree->name);
    if (it == tree_set_->end() || it->second->IsEmpty()) {
      (*tree_set_)[tree->name] = std::move(tree);
      return;
    }
    if (!tree->IsEmpty()) {
      Errorf("template: multiple definition of template \"" + tree->name + "\"");
    }
  }

  const Token& Peek() const { return tokens_[next_]; }

  const Token& Next() {
    const Token& t = tokens_[next_];
    last_ = next_;
    if (next_ + 1 < tokens_.size()) {
      ++next_;
    }
    return t;
  }

  void Backup() { next_ = last_; }

  const Token& NextNonSpace() {
    while (Peek().type == TokenType::kSpace) {
      Next();
    }
    return Next();
  }

  const Token& PeekNonSpace() {
    while (Peek().type == TokenType::kSpace) {
      Next();
    }
    return Peek();
  }

  [[noreturn]] void Errorf(const std::string& message) { ErrorAt(tokens_[last_], message); }

  [[noreturn]] void ErrorAt(const Token& token, const std::string& message) {
    int column = 1;
    for (size_t i = token.pos; i > 0 && (*source_)[i - 1] != '\n'; --i) {
      ++column;
    }
    throw ParseError{"template: " + parse_name_ + ":" + std::to_string(token.line) + ": " + message,
                     token.line,
                     column};
  }

  [[noreturn]] void Unexpected(const Token& token, const std::string& context) {
    if (token.type == TokenType::kError) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != token.line) {
        extra = " in action started at " + parse_name_ + ":" + std::to_string(action_line_);
        if (token.val.ends_with(" action")) {
          extra = extra.substr(std::string(" in action").size());
        }
      }
      Errorf(token.val + extra);
    }
    Errorf("unexpected " + TokenString(token) + " in " + context);
  }

  const Token& Expect(TokenType type, const std::string& context) {
    const Token& t = NextNonSpace();
    if (t.type != type) {
      Unexpected(t, context);
    }
    return t;
  }

  void ParseDefinition() {
    const std::string context = "define clause";
    const Token& name = NextNonSpace();
    if (name.type != TokenType::kString && name.type != TokenType::kRawString) {
      Unexpected(name, context);
    }
    auto tree = NewTree(Unquote(name));
    Expect(TokenType::kRightDelim, context);
    auto saved_vars = std::move(vars_);
    vars_ = {"$"};
    Item end = ItemList(&tree->root);
    if (end != Item::kEnd) {
      Errorf("unexpected {{else}} in " + context);
    }
    vars_ = std::move(saved_vars);
    AddTree(std::move(tree));
  }

  std::string Unquote(const Token& t) {
    std::string out;
    if (!UnquoteGoString(t.val, &out)) {
      Errorf("invalid syntax");
    }
    return out;
  }

  // Parses nodes until {{end}} or {{else}}, which it returns.
  Item ItemList(std::vector<Node>* list) {
    while (PeekNonSpace().type != TokenType::kEof) {
      Node n;
      Item item = TextOrAction(&n);
      if (item == Item::kEnd || item == Item::kElse) {
        return item;
      }
      if (item == Item::kNode) {
        list->push_back(std::move(n));
      }
    }
    Errorf("unexpected EOF");
  }

  Item TextOrAction(Node* n) {
    const Token& token = NextNonSpace();
    switch (token.type) {
      case TokenType::kText:
        n->type = NodeType::kText;
        n->pos = token.pos;
        n->text = token.val;
        return Item::kNode;
      case TokenType::kLeftDelim: {
        int saved = action_line_;
        action_line_ = token.line;
        Item item = Action(n);
        action_line_ = saved;
        return item;
      }
      case TokenType::kComment:
        return Item::kComment;
      default:
        Unexpected(token, "input");
    }
  }

  Item Action(Node* n) {
    const Token& token = NextNonSpace();
    if (token.type == TokenType::kKeyword) {
      const std::string& word = token.val;
      if (word == "block") {
        BlockControl(n);
        return Item::kNode;
      }
      if (word == "break" || word == "continue") {
        const Token& close = NextNonSpace();
        if (close.type != TokenType::kRightDelim) {
          Unexpected(close, "{{" + word + "}}");
        }
        if (range_depth_ == 0) {
          Errorf("{{" + word + "}} outside {{range}}");
        }
        n->type = word == "break" ? NodeType::kBreak : NodeType::kContinue;
        n->pos = token.pos;
        return Item::kNode;
      }
      if (word == "else") {
        // "{{else if" leaves the "if" pending for the enclosing if to pick up.
        if (!IsKeyword(PeekNonSpace(), "if")) {
          Expect(TokenType::kRightDelim, "else");
        }
        return Item::kElse;
      }
      if (word == "end") {
        Expect(TokenType::kRightDelim, "end");
        return Item::kEnd;
      }
      if (word == "if") {
        ParseControl(n, NodeType::kIf, true, "if");
        return Item::kNode;
      }
      if (word == "range") {
        ParseControl(n, NodeType::kRange, false, "range");
        return Item::kNode;
      }
      if (word == "with") {
        ParseControl(n, NodeType::kWith, false, "with");
        return Item::kNode;
      }
      if (word == "template") {
        TemplateControl(n);
        return Item::kNode;
      }
    }
    Backup();
    n->type = NodeType::kAction;
    n->pos = Peek().pos;
    // Variables declared here persist until the enclosing {{end}}.
    n->pipe = Pipeline("command", TokenType::kRightDelim);
    return Item::kNode;
  }

  void ParseControl(Node* n, NodeType type, bool allow_else_if, const std::string& context) {
    size_t vars_mark = vars_.size();
    n->type = type;
    n->pipe = Pipeline(context, TokenType::kRightDelim);
    n->pos = n->pipe->pos;
    if (type == NodeType::kRange) {
      ++range_depth_;
    }
    Item next = ItemList(&n->list);
    if (type == NodeType::kRange) {
      --range_depth_;
    }
    if (next == Item::kElse) {
      if (allow_else_if && IsKeyword(Peek(), "if")) {
        // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}.
        Next();
        Node nested;
        ParseControl(&nested, NodeType::kIf, true, "if");
        n->else_list.push_back(std::move(nested));
      } else {
        Item end = ItemList(&n->else_list);
        if (end != Item::kEnd) {
          Errorf("expected end; found {{else}}");
        }
      }
    }
    vars_.resize(vars_mark);
  }

  std::string TemplateName(const Token& token, const std::string& context) {
    if (token.type != TokenType::kString && token.type != TokenType::kRawString) {
      Unexpected(token, context);
    }
    return Unquote(token);
  }

  void TemplateControl(Node* n) {
    const std::string context = "template clause";
    const Token& token = NextNonSpace();
    n->type = NodeType::kTemplate;
    n->pos = token.pos;
    n->text = TemplateName(token, context);
    if (NextNonSpace().type != TokenType::kRightDelim) {
      Backup();
      n->pipe = Pipeline(context, TokenType::kRightDelim);
    }
  }

  void BlockControl(Node* n) {
    const std::string context = "block clause";
    const Token& token = NextNonSpace();
    n->type = NodeType::kTemplate;
    n->pos = token.pos;
    n->text = TemplateName(token, context);
    n->pipe = Pipeline(context, TokenType::kRightDelim);
    auto tree = NewTree(n->text);
    auto saved_vars = std::move(vars_);
    vars_ = {"$"};
    Item end = ItemList(&tree->root);
    if (end != Item::kEnd) {
      Errorf("unexpected {{else}} in " + context);
    }
    vars_ = std::move(saved_vars);
    AddTree(std::move(tree));
  }

  std::shared_ptr<Pipe> Pipeline(const std::string& context, TokenType end) {
    auto pipe = std::make_shared<Pipe>();
    pipe->pos = PeekNonSpace().pos;
    ParseDeclarations(pipe.get(), context);
    while (true) {
      const Token& token = NextNonSpace();
      bool at_end = token.type == end && (end != TokenType::kPunct || IsPunct(token, ')'));
      if (at_end) {
        CheckPipeline(*pipe, context);
        return pipe;
      }
      switch (token.type) {
        case TokenType::kBool:
        case TokenType::kChar:
        case TokenType::kField:
        case TokenType::kIdentifier:
        case TokenType::kNumber:
        case TokenType::kRawString:
        case TokenType::kString:
        case TokenType::kVariable:
          Backup();
          pipe->cmds.push_back(ParseCommand());
          continue;
        case TokenType::kKeyword:
          if (token.val == "." || token.val == "nil") {
            Backup();
            pipe->cmds.push_back(ParseCommand());
            continue;
          }
          break;
        case TokenType::kPunct:
          if (IsPunct(token, '(')) {
            Backup();
            pipe->cmds.push_back(ParseCommand());
            continue;
          }
          break;
        default:
          break;
      }
      Unexpected(token, context);
    }
  }

  void ParseDeclarations(Pipe* pipe, const std::string& context) {
    while (PeekNonSpace().type == TokenType::kVariable) {
      size_t variable_index = next_;
      const Token& v = Next();
      bool space_after = Peek().type == TokenType::kSpace;
      const Token& next = PeekNonSpace();
      if (next.type == TokenType::kAssign || next.type == TokenType::kDeclare) {
        pipe->is_assign = next.type == TokenType::kAssign;
        NextNonSpace();
        pipe->decl.push_back(v.val);
        vars_.push_back(v.val);
        return;
      }
      if (IsPunct(next, ',')) {
        NextNonSpace();
        pipe->decl.push_back(v.val);
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          const Token& after = PeekNonSpace();
          if (after.type == TokenType::kVariable || after.type == TokenType::kRightDelim ||
              IsPunct(after, ')')) {
            continue;  // the second variable of a range
          }
          Errorf("range can only initialize variables");
        }
        Errorf("too many declarations in " + context);
      }
      (void)space_after;
      next_ = variable_index;
      return;
    }
  }

  void CheckPipeline(const Pipe& pipe, const std::string& context) {
    if (pipe.cmds.empty()) {
      Errorf("missing value for " + context);
    }
    for (size_t i = 1; i < pipe.cmds.size(); ++i) {
      switch (pipe.cmds[i].args[0].type) {
        case ArgType::kBool:
        case ArgType::kDot:
        case ArgType::kNil:
        case ArgType::kNumber:
        case ArgType::kString:
          Errorf("non executable command in pipeline stage " + std::to_string(i + 1));
        default:
          break;
      }
    }
  }

  Command ParseCommand() {
    Command cmd;
    cmd.pos = PeekNonSpace().pos;
    while (true) {
      PeekNonSpace();
      Arg operand;
      if (ParseOperand(&operand)) {
        cmd.args.push_back(std::move(operand));
      }
      const Token& token = Next();
      if (token.type == TokenType::kSpace) {
        continue;
      }
      if (token.type == TokenType::kRightDelim || IsPunct(token, ')')) {
        Backup();
      } else if (!IsPunct(token, '|')) {
        Unexpected(token, "operand");
      }
      break;
    }
    if (cmd.args.empty()) {
      Errorf("empty command");
    }
    return cmd;
  }

  bool ParseOperand(Arg* arg) {
    if (!ParseTerm(arg)) {
      return false;
    }
    if (Peek().type != TokenType::kField) {
      return true;
    }
    size_t chain_pos = Peek().pos;
    std::vector<std::string> fields;
    while (Peek().type == TokenType::kField) {
      fields.push_back(Next().val.substr(1));
    }
    switch (arg->type) {
      case ArgType::kField:
      case ArgType::kVariable:
        arg->pos = chain_pos;
        arg->idents.insert(arg->idents.end(), fields.begin(), fields.end());
        return true;
      case ArgType::kBool:
      case ArgType::kString:
      case ArgType::kNumber:
      case ArgType::kNil:
      case ArgType::kDot:
        Errorf("unexpected . after term " + GoQuote(ArgString(*arg)));
      default: {
        Arg chain;
        chain.type = ArgType::kChain;
        chain.pos = chain_pos;
        chain.base = std::make_shared<Arg>(std::move(*arg));
        chain.idents = std::move(fields);
        *arg = std::move(chain);
        return true;
      }
    }
  }

  bool ParseTerm(Arg* arg) {
    const Token& token = NextNonSpace();
    arg->pos = token.pos;
    switch (token.type) {
      case TokenType::kIdentifier:
        if (!HasFunction(dialect_, token.val)) {
          Errorf("function \"" + token.val + "\" not defined");
        }
        arg->type = ArgType::kIdentifier;
        arg->idents = {token.val};
        return true;
      case TokenType::kKeyword:
        if (token.val == ".") {
          arg->type = ArgType::kDot;
          return true;
        }
        if (token.val == "nil") {
          arg->type = ArgType::kNil;
          return true;
        }
        break;
      case TokenType::kVariable:
        for (const std::string& v : vars_) {
          if (v == token.val) {
            arg->type = ArgType::kVariable;
            arg->idents = {token.val};
            return true;
          }
        }
        Errorf("undefined variable \"" + token.val + "\"");
      case TokenType::kField:
        arg->type = ArgType::kField;
        arg->idents = {token.val.substr(1)};
        return true;
      case TokenType::kBool:
        arg->type = ArgType::kBool;
        arg->boolean = token.val == "true";
        return true;
      case TokenType::kChar:
      case TokenType::kNumber: {
        std::string error;
        if (!ParseGoNumber(token.val, token.type == TokenType::kChar, &arg->number, &error)) {
          Errorf(error);
        }
        arg->type = ArgType::kNumber;
        return true;
      }
      case TokenType::kPunct:
        if (IsPunct(token, '(')) {
          arg->type = ArgType::kPipe;
          arg->pipe = Pipeline("parenthesized pipeline", TokenType::kPunct);
          return true;
        }
        break;
      case TokenType::kString:
      case TokenType::kRawString:
        arg->type = ArgType::kString;
        arg->quoted = token.val;
        arg->str = Unquote(token);
        return true;
      default:
        break;
    }
    Backup();
    return false;
  }

  std::string parse_name_;
  std::shared_ptr<const std::string> source_;
  TemplateDialect dialect_;
  std::vector<Token> tokens_;
  TreeMap* tree_set_;
  size_t next_ = 0;
  size_t last_ = 0;
  int action_line_ = 0;
  int range_depth_ = 0;
  std::vector<std::string> vars_;
};

void WritePipe(const Pipe& pipe, std::string* out);

void WriteArg(const Arg& arg, std::string* out) {
  switch (arg.type) {
    case ArgType::kDot:
      *out += ".";
      return;
    case ArgType::kNil:
      *out += "nil";
      return;
    case ArgType::kBool:
      *out += arg.boolean ? "true" : "false";
      return;
    case ArgType::kNumber:
      *out += arg.number.text;
      return;
    case ArgType::kString:
      *out += arg.quoted;
      return;
    case ArgType::kField:
      for (const std::string& f : arg.idents) {
        *out += "." + f;
      }
      return;
    case ArgType::kVariable:
      for (size_t i = 0; i < arg.idents.size(); ++i) {
        *out += (i == 0 ? "" : ".") + arg.idents[i];
      }
      return;
    case ArgType::kIdentifier:
      *out += arg.idents[0];
      return;
    case ArgType::kPipe:
      WritePipe(*arg.pipe, out);
      return;
    case ArgType::kChain:
      if (arg.base->type == ArgType::kPipe) {
        *out += "(";
        WriteArg(*arg.base, out);
        *out += ")";
      } else {
        WriteArg(*arg.base, out);
      }
      for (const std::string& f : arg.idents) {
        *out += "." + f;
      }
      return;
  }
}

void WriteCommand(const Command& cmd, std::string* out) {
  for (size_t i = 0; i < cmd.args.size(); ++i) {
    if (i > 0) {
      *out += " ";
    }
    if (cmd.args[i].type == ArgType::kPipe) {
      *out += "(";
      WriteArg(cmd.args[i], out);
      *out += ")";
    } else {
      WriteArg(cmd.args[i], out);
    }
  }
}

void WritePipe(const Pipe& pipe, std::string* out) {
  if (!pipe.decl.empty()) {
    for (size_t i = 0; i < pipe.decl.size(); ++i) {
      *out += (i == 0 ? "" : ", ") + pipe.decl[i];
    }
    *out += pipe.is_assign ? " = " : " := ";
  }
  for (size_t i = 0; i < pipe.cmds.size(); ++i) {
    if (i > 0) {
      *out += " | ";
    }
    WriteCommand(pipe.cmds[i], out);
  }
}

}  // namespace

bool Tree::IsEmpty() const {
  return IsEmptyList(root);
}

std::string ArgString(const Arg& arg) {
  std::string out;
  WriteArg(arg, &out);
  return out;
}

std::string CommandString(const Command& cmd) {
  std::string out;
  WriteCommand(cmd, &out);
  return out;
}

std::string PipeString(const Pipe& pipe) {
  std::string out;
  WritePipe(pipe, &out);
  return out;
}

void ParseInto(std::string_view name,
               std::string_view text,
               TemplateDialect dialect,
               const std::vector<std::string>& predeclared,
               bool allow_redefine,
               TreeMap* trees) {
  auto source = std::make_shared<const std::string>(text);
  TreeMap parsed;
  Parser parser(name, source, dialect, Lex(*source), &parsed);
  std::shared_ptr<Tree> top = parser.ParseTop(predeclared);

  // Go's template.AddParseTree: a template that exists is not replaced by an empty one.
  auto merge = [&](const std::string& tree_name, std::shared_ptr<const Tree> tree) {
    auto it = trees->find(tree_name);
    if (it != trees->end() && tree->IsEmpty()) {
      return;
    }
    if (it != trees->end() && !allow_redefine && !it->second->IsEmpty()) {
      throw ParseError{"template: " + std::string(name) + ": template: multiple definition of " +
                           "template \"" + tree_name + "\"",
                       0,
                       0};
    }
    (*trees)[tree_name] = std::move(tree);
  };
  for (auto& [tree_name, tree] : parsed) {
    merge(tree_name, tree);
  }
  auto it = trees->find(top->name);
  if (it == trees->end() || !top->IsEmpty()) {
    (*trees)[top->name] = top;
  }
}

}  // namespace alertd::template_internal
