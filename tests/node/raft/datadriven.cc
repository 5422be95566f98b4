#include "datadriven.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace qdsim::datadriven {
namespace {

constexpr char kSeparator[] = "----";

// A piece of a test file: either text kept verbatim (comments, blank lines) or a test case.
struct Chunk {
  std::string verbatim;           // when !is_case: the lines, each ending in '\n'
  bool is_case = false;
  std::string command_line;       // when is_case: the command line without '\n'
  TestData data;                  // when is_case: the parsed case
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

CmdArg ParseArg(const std::string& word) {
  CmdArg arg;
  const size_t eq = word.find('=');
  if (eq == std::string::npos) {
    arg.key = word;
    return arg;
  }
  arg.key = word.substr(0, eq);
  std::string value = word.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '(' && value.back() == ')') {
    std::string inner = value.substr(1, value.size() - 2);
    std::istringstream in(inner);
    std::string item;
    while (std::getline(in, item, ',')) {
      if (!item.empty()) arg.values.push_back(item);
    }
  } else {
    arg.values.push_back(value);
  }
  return arg;
}

bool IsVerbatimLine(const std::string& line) {
  return line.empty() || line[0] == '#' || SplitWords(line).empty();
}

// Parses a case starting at lines[*i] (a command line); advances *i past it.
Chunk ParseCase(const std::string& path, const std::vector<std::string>& lines, size_t* i) {
  Chunk c;
  c.is_case = true;
  c.command_line = lines[*i];
  c.data.pos = path + ":" + std::to_string(*i + 1);
  std::vector<std::string> words = SplitWords(lines[*i]);
  c.data.cmd = words[0];
  for (size_t w = 1; w < words.size(); ++w) c.data.args.push_back(ParseArg(words[w]));
  ++*i;
  while (*i < lines.size() && lines[*i] != kSeparator) c.data.input += lines[(*i)++] + "\n";
  if (*i == lines.size()) {
    ADD_FAILURE() << c.data.pos << ": missing " << kSeparator << " after command";
    return c;
  }
  ++*i;  // the separator
  if (*i < lines.size() && lines[*i] == kSeparator) {
    // Doubled separators: read until "----" "----".
    ++*i;
    while (*i + 1 < lines.size() && !(lines[*i] == kSeparator && lines[*i + 1] == kSeparator)) {
      c.data.expected += lines[(*i)++] + "\n";
    }
    *i += 2;
    return c;
  }
  while (*i < lines.size() && !lines[*i].empty()) c.data.expected += lines[(*i)++] + "\n";
  return c;
}

std::vector<Chunk> ParseFile(const std::string& path, const std::string& text) {
  std::vector<Chunk> chunks;
  std::vector<std::string> lines = SplitLines(text);
  size_t i = 0;
  while (i < lines.size()) {
    if (IsVerbatimLine(lines[i])) {
      if (chunks.empty() || chunks.back().is_case) chunks.emplace_back();
      chunks.back().verbatim += lines[i++] + "\n";
      continue;
    }
    chunks.push_back(ParseCase(path, lines, &i));
  }
  return chunks;
}

std::string FormatCase(const Chunk& c, const std::string& output) {
  std::string out = c.command_line + "\n" + c.data.input + kSeparator + "\n";
  const bool has_blank_line = output.find("\n\n") != std::string::npos ||
                              (!output.empty() && output[0] == '\n');
  if (has_blank_line) return out + kSeparator + "\n" + output + kSeparator + "\n" + kSeparator + "\n";
  return out + output;
}

}  // namespace

const CmdArg* TestData::Find(const std::string& key) const {
  for (const CmdArg& a : args) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

TestData ParseCommandLine(const std::string& line) {
  TestData d;
  d.pos = "<inline>";
  std::vector<std::string> words = SplitWords(line);
  if (words.empty()) return d;
  d.cmd = words[0];
  for (size_t w = 1; w < words.size(); ++w) d.args.push_back(ParseArg(words[w]));
  return d;
}

void ReplayCommands(const std::string& path,
                    const std::function<std::string(const TestData&)>& handler) {
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  for (const Chunk& c : ParseFile(path, buffer.str())) {
    if (c.is_case) handler(c.data);
  }
}

bool RewriteRequested() {
  const char* v = std::getenv("QDSIM_REWRITE");
  return v != nullptr && std::string(v) == "1";
}

void RunTest(const std::string& path, const std::function<std::string(const TestData&)>& handler) {
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<Chunk> chunks = ParseFile(path, buffer.str());
  const bool rewrite = RewriteRequested();
  std::string rewritten;
  for (const Chunk& c : chunks) {
    if (!c.is_case) {
      rewritten += c.verbatim;
      continue;
    }
    std::string actual = handler(c.data);
    if (!actual.empty() && actual.back() != '\n') actual += "\n";
    if (rewrite) {
      rewritten += FormatCase(c, actual);
    } else {
      EXPECT_EQ(c.data.expected, actual) << c.data.pos << ": " << c.command_line;
    }
  }
  if (rewrite) {
    std::ofstream out(path, std::ios::trunc);
    out << rewritten;
  }
}

}  // namespace qdsim::datadriven
