#include "gnas/space/genome.h"
#include "gnas/space/space.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "gnas/core/error.h"

namespace gnas::space {
namespace {

// A hand-made genome: normal | reduction | input, 5 blocks of [in_A, in_B, op_A, op_B].
// Normal cell: block 0 uses h_n and h_{n-1}; block 1 uses block 0 (index 2); block 3 uses block 1 (index 3)
// and block 2 (index 4); block 4 uses block 3 (index 5) and h_n. So block 4 alone is unused.
const char* kNormal = "0 1 3 4  2 0 0 1  0 1 2 2  3 4 3 3  5 0 4 0";
const char* kReduction = "1 0 1 1  0 1 0 0  0 0 3 3  1 1 4 4  0 1 2 2";  // no block is used: all concatenated
// Input cell: choices {x, block 0..k-1}; block 1 uses block 0 (index 1), block 2 uses block 1 (index 2).
const char* kInput = "0 0 3 0  1 0 4 1  2 0 0 0  0 0 1 2  0 0 3 3";

std::string genome_text() { return std::string(kNormal) + " | " + kReduction + " | " + kInput; }

TEST(SearchSpaceTest, GeneRangesFollowTheBlockIndex) {
  SearchSpace s;
  EXPECT_EQ(s.length(), 60);
  // Normal cell: block k has k + 2 input choices; ops always 5.
  EXPECT_EQ(s.gene_range(0), 2);
  EXPECT_EQ(s.gene_range(1), 2);
  EXPECT_EQ(s.gene_range(2), 5);
  EXPECT_EQ(s.gene_range(4 * 4), 6);
  // Reduction cell starts at 20, input cell at 40: input block k has k + 1 choices.
  EXPECT_EQ(s.gene_range(20), 2);
  EXPECT_EQ(s.gene_range(40), 1);
  EXPECT_EQ(s.gene_range(40 + 4 * 4 + 1), 5);
  EXPECT_EQ(s.gene_range(59), 5);
}

TEST(GenomeTest, DecodeFindsTheConcatenatedBlocks) {
  SearchSpace s;
  const Genome g = parse_text(s, genome_text());
  const CellSpec normal = decode_cell(s, g, CellKind::kNormal);
  EXPECT_EQ(normal.concat, std::vector<int>({4}));
  EXPECT_EQ(normal.blocks[3].in_a, 3);
  EXPECT_EQ(normal.blocks[3].op_b, 3);
  const CellSpec reduction = decode_cell(s, g, CellKind::kReduction);
  EXPECT_EQ(reduction.concat, std::vector<int>({0, 1, 2, 3, 4}));
  const CellSpec input = decode_cell(s, g, CellKind::kInput);
  EXPECT_EQ(input.num_cell_inputs(), 1);
  EXPECT_EQ(input.concat, std::vector<int>({2, 3, 4}));
}

/// Under net.compat = reference, block 0 of the input cell is never concatenated (the authors'
/// code): when no block reads it, it is dead (not computed). Other cells are unchanged.
TEST(GenomeTest, ReferenceCompatNeverConcatenatesInputBlockZero) {
  SearchSpace s;
  const Genome g = parse_text(s, genome_text());  // input cell: block 0 read by block 1
  for (int k = 0; k < kNumCellKinds; ++k) {
    const auto kind = static_cast<CellKind>(k);
    EXPECT_EQ(decode_cell(s, g, kind, NetCompat::kReference).concat, decode_cell(s, g, kind).concat);
  }
  // An input cell in which nothing reads block 0: concatenated under paper, dead under reference.
  const Genome lone = parse_text(s, std::string(kNormal) + " | " + kReduction + " | 0 0 3 0  0 0 4 1  2 0 0 0  0 0 1 2  0 0 3 3");
  const CellSpec paper = decode_cell(s, lone, CellKind::kInput);
  const CellSpec reference = decode_cell(s, lone, CellKind::kInput, NetCompat::kReference);
  EXPECT_EQ(paper.concat, std::vector<int>({0, 2, 3, 4}));
  EXPECT_EQ(reference.concat, std::vector<int>({2, 3, 4}));
  EXPECT_EQ(paper.live, std::vector<bool>({true, true, true, true, true}));
  EXPECT_EQ(reference.live, std::vector<bool>({false, true, true, true, true}));
  EXPECT_TRUE(paper.uses_state(0));
  // One block: it is the cell's output under both.
  SearchSpace one;
  one.n_blocks = 1;
  const Genome tiny = parse_text(one, "0 1 3 4 | 0 1 1 2 | 0 0 3 3");
  EXPECT_EQ(decode_cell(one, tiny, CellKind::kInput, NetCompat::kReference).concat, std::vector<int>({0}));
  // JSON and DOT say which compat they describe.
  EXPECT_NE(to_json(s, lone, -1, NetCompat::kReference).find("\"compat\": \"reference\""), std::string::npos);
  EXPECT_NE(to_json(s, lone).find("\"compat\": \"paper\""), std::string::npos);
  EXPECT_NE(to_dot(s, lone, NetCompat::kReference).find("net.compat = reference"), std::string::npos);
  EXPECT_NE(to_dot(s, lone, NetCompat::kReference).find("input_b0 [label"), std::string::npos);
  EXPECT_EQ(to_dot(s, lone, NetCompat::kReference).find("input_b0 -> input_out"), std::string::npos);
  EXPECT_NE(to_dot(s, lone).find("input_b0 -> input_out"), std::string::npos);
}

/// A block as the paper's pictures draw it: slot A's op and source, slot B's op and source, with
/// the pictures' names (x0, x1, or "add N" = the Add box numbered N).
struct DrawnBlock {
  const char* op_a;
  int from_a;
  const char* op_b;
  int from_b;
};

/// Genes of a cell as drawn; the op names and input numbering follow ../shared/paper/README.md
/// and are translated here independently of the genome code.
std::vector<int> drawn_genes(const std::vector<DrawnBlock>& blocks) {
  const std::map<std::string, int> ops = {{"Identity", 0}, {"Max3x3", 1}, {"Avg3x3", 2}, {"Dw3x3", 3}, {"Dw5x5", 4}};
  std::vector<int> genes;
  for (const auto& b : blocks) genes.insert(genes.end(), {b.from_a, b.from_b, ops.at(b.op_a), ops.at(b.op_b)});
  return genes;
}

struct DrawnCell {
  CellKind kind;
  std::vector<DrawnBlock> blocks;
  std::vector<int> concat_boxes;  // the Add boxes with an arrow into Concat
};

void expect_cells_as_drawn(const std::string& file, const std::vector<DrawnCell>& cells) {
  SearchSpace s;
  const Genome g = load_genome(*make_space("paper", s.n_blocks), file);
  for (const auto& cell : cells) {
    const CellSpec spec = decode_cell(s, g, cell.kind);
    std::vector<int> genes;
    for (const auto& b : spec.blocks) genes.insert(genes.end(), {b.in_a, b.in_b, b.op_a, b.op_b});
    EXPECT_EQ(genes, drawn_genes(cell.blocks)) << file << ", " << cell_kind_name(cell.kind) << " cell";
    std::vector<int> boxes;  // Add box number = block index + number of cell inputs
    for (int k : spec.concat) boxes.push_back(k + spec.num_cell_inputs());
    EXPECT_EQ(boxes, cell.concat_boxes) << file << ", " << cell_kind_name(cell.kind) << " cell";
  }
}

/// configs/genomes/paper_cifar10.txt against paper Fig. 14, block by block: (j0) is slot A and
/// (j1) slot B of block j; x[0] = h_n (x in the input cell), x[1] = h_{n-1}; Add (i) is input i.
TEST(PaperGenomeTest, Cifar10CellsMatchFig14) {
  expect_cells_as_drawn(
      "configs/genomes/paper_cifar10.txt",
      {{CellKind::kNormal,
        {{"Dw3x3", 0, "Dw3x3", 1}, {"Dw3x3", 0, "Max3x3", 2}, {"Avg3x3", 2, "Dw5x5", 1}, {"Max3x3", 4, "Dw5x5", 0},
         {"Dw5x5", 4, "Dw5x5", 1}},
        {3, 5, 6}},
       {CellKind::kReduction,
        {{"Max3x3", 0, "Dw5x5", 1}, {"Avg3x3", 2, "Max3x3", 2}, {"Avg3x3", 0, "Max3x3", 0}, {"Dw5x5", 3, "Avg3x3", 4},
         {"Identity", 3, "Avg3x3", 1}},
        {5, 6}},
       {CellKind::kInput,
        {{"Dw3x3", 0, "Max3x3", 0}, {"Dw3x3", 1, "Max3x3", 1}, {"Dw3x3", 0, "Avg3x3", 2}, {"Avg3x3", 0, "Max3x3", 0},
         {"Max3x3", 1, "Dw3x3", 1}},
        {3, 4, 5}}});
}

/// configs/genomes/paper_cifar100.txt against ../shared/paper/cifar100-cells.png, block by block.
TEST(PaperGenomeTest, Cifar100CellsMatchTheAuthorsPicture) {
  expect_cells_as_drawn(
      "configs/genomes/paper_cifar100.txt",
      {{CellKind::kNormal,
        {{"Identity", 1, "Dw5x5", 0}, {"Dw5x5", 1, "Dw5x5", 1}, {"Avg3x3", 2, "Max3x3", 3}, {"Max3x3", 2, "Dw5x5", 1},
         {"Dw3x3", 1, "Avg3x3", 3}},
        {4, 5, 6}},
       {CellKind::kReduction,
        {{"Dw5x5", 0, "Dw3x3", 0}, {"Dw3x3", 0, "Identity", 0}, {"Dw5x5", 0, "Identity", 2}, {"Avg3x3", 0, "Max3x3", 2},
         {"Dw3x3", 1, "Dw5x5", 3}},
        {4, 5, 6}},
       {CellKind::kInput,
        {{"Dw5x5", 0, "Avg3x3", 0}, {"Max3x3", 1, "Dw3x3", 1}, {"Dw5x5", 0, "Identity", 0}, {"Dw5x5", 0, "Dw3x3", 3},
         {"Identity", 0, "Max3x3", 3}},
        {2, 4, 5}}});
}

TEST(GenomeTest, TextRoundTripsWithCellSeparators) {
  SearchSpace s;
  const Genome g = parse_text(s, genome_text());
  const std::string text = to_text(s, g);
  EXPECT_EQ(std::count(text.begin(), text.end(), '|'), 2);
  EXPECT_EQ(parse_text(s, text), g);
  // Commas and no separators are accepted too.
  std::string commas = text;
  for (auto& c : commas)
    if (c == '|') c = ',';
  EXPECT_EQ(parse_text(s, commas), g);
}

void expect_config_error(const std::string& text, const std::string& phrase) {
  SearchSpace s;
  EXPECT_THAT([&] { parse_text(s, text); }, ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr(phrase)))
      << "'" << text << "'";
}

TEST(GenomeTest, BadTextNamesTheProblem) {
  expect_config_error("0 1 2", "expected 60 genes");
  expect_config_error(genome_text() + " 0", "got 61");
  std::string bad = genome_text();
  bad[0] = '7';  // gene 0 has range [0, 1]
  expect_config_error(bad, "gene 0 (normal cell, block 0, in_A) is 7, allowed range is [0, 1]");
  bad = genome_text();
  bad[2] = 'x';
  expect_config_error(bad, "token 'x' at gene 1 is not a non-negative integer");
  expect_config_error("-1 " + genome_text().substr(2), "not a non-negative integer");
  expect_config_error("0 1 | 3 4", "is not at a cell boundary");
}

TEST(GenomeTest, JsonRoundTripAndContent) {
  SearchSpace s;
  const Genome g = parse_text(s, genome_text());
  const std::string json = to_json(s, g, 42.5);
  EXPECT_EQ(parse_json(s, json), g);
  EXPECT_NE(json.find("\"fitness\": 42.5"), std::string::npos);
  EXPECT_NE(json.find("\"op_a\": \"sep_conv_3x3\""), std::string::npos);
  EXPECT_NE(json.find("\"concat\": [4]"), std::string::npos);
  EXPECT_THROW(parse_json(s, "{\"genome\": 1}"), ConfigError);
}

/// Malformed and adversarial genome JSON is refused with a message; extra fields are fine.
TEST(GenomeTest, MalformedAndAdversarialJsonIsRefused) {
  SearchSpace s;
  const Genome g = parse_text(s, genome_text());
  std::string genes;
  for (std::size_t i = 0; i < g.size(); ++i) genes += (i ? "," : "") + std::to_string(g[i]);
  // Extra fields (and to_json's own text/cells/fitness) are accepted.
  EXPECT_EQ(parse_json(s, "{\"note\": {\"a\": [1, 2]}, \"genes\": [" + genes + "], \"x\": null}"), g);
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::pair<std::string, std::string> cases[] = {
      {"", "not valid JSON"},
      {"{\"genes\": [0, 1", "not valid JSON"},
      {"{\"genes\": [" + genes + "]} trailing", "not valid JSON"},
      {"[" + genes + "]", "expected an object"},
      {deep, "expected an object"},  // 100,000 levels of nesting: no stack overflow
      {"{\"genes\": " + deep + "}", "expected 60 genes, got 1"},
      {"{\"genome\": [" + genes + "]}", "no \"genes\" array"},
      {"{\"genes\": \"" + genes + "\"}", "must be an array of integers, got a string"},
      {"{\"genes\": [0, 1]}", "expected 60 genes, got 2"},
      {"{\"genes\": [1e400" + genes.substr(1) + "]}", "not valid JSON"},  // overflows a double
      {"{\"genes\": [18446744073709551617" + genes.substr(1) + "]}", "gene 0 (normal cell, block 0, in_A) must be"},
      {"{\"genes\": [-1" + genes.substr(1) + "]}", "gene 0 (normal cell, block 0, in_A) must be"},
      {"{\"genes\": [0.5" + genes.substr(1) + "]}", "gene 0 (normal cell, block 0, in_A) must be"},
      {"{\"genes\": [[0]" + genes.substr(1) + "]}", "must be a small non-negative integer, got [0]"},
      {"{\"genes\": [9" + genes.substr(1) + "]}", "gene 0 (normal cell, block 0, in_A) is 9"},
  };
  for (const auto& c : cases) {  // not a structured binding: C++17 lambdas cannot capture one (clang refuses)
    const std::string& json = c.first;
    EXPECT_THAT([&] { parse_json(s, json); }, ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr(c.second)))
        << json.substr(0, 80);
  }
}

/// A mistyped genome path says that no such file exists instead of parsing it as genome text.
TEST(GenomeTest, MistypedPathIsNotParsedAsText) {
  SearchSpace s;
  for (const char* path : {"runs/frist", "best_genome.jsn", "/no/such/dir"}) {
    EXPECT_THAT([&] { load_genome(*make_space("paper", s.n_blocks), path); },
                ::testing::ThrowsMessage<ConfigError>(
                    ::testing::HasSubstr(std::string("genome '") + path + "': no such file or directory")));
  }
  expect_config_error("0 1 2", "expected 60 genes");  // text still reads as text
}

TEST(GenomeTest, DotHasOneClusterPerCellAndEveryEdge) {
  SearchSpace s;
  const std::string dot = to_dot(s, parse_text(s, genome_text()));
  for (const char* c : {"cluster_normal", "cluster_reduction", "cluster_input"})
    EXPECT_NE(dot.find(c), std::string::npos) << c;
  // Per block: input -> op twice, op -> Add twice; plus one edge per concatenated block, per cell:
  // 3*5*4 + (1 + 5 + 3).
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = dot.find(what); p != std::string::npos; p = dot.find(what, p + what.size())) ++n;
    return n;
  };
  EXPECT_EQ(count("->"), 60u + 9u);
  EXPECT_EQ(count("[label=\"Add\""), 15u);     // one Add per block, one box per block
  EXPECT_EQ(count("subgraph cluster_normal_b"), 5u);
  EXPECT_EQ(count("[label=\"Concat\""), 3u);
  EXPECT_EQ(count("rank=min"), 3u);            // the inputs on top, the concat at the bottom
  EXPECT_EQ(count("rank=max"), 3u);
}

TEST(GenomeTest, LoadGenomeReadsTextJsonAndRunDirectories) {
  SearchSpace s;
  const Genome g = parse_text(s, genome_text());
  char dir[] = "/tmp/gnas_genome_testXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string d = dir;
  std::ofstream(d + "/best_genome.json") << to_json(s, g);
  std::ofstream(d + "/g.txt") << genome_text() << "\n";
  EXPECT_EQ(load_genome(*make_space("paper", s.n_blocks), d), g);
  EXPECT_EQ(load_genome(*make_space("paper", s.n_blocks), d + "/best_genome.json"), g);
  EXPECT_EQ(load_genome(*make_space("paper", s.n_blocks), d + "/g.txt"), g);
  std::ofstream(d + "/bad.txt") << "1 2 3\n";
  EXPECT_THAT([&] { load_genome(*make_space("paper", s.n_blocks), d + "/bad.txt"); },
              ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr("bad.txt")));
  std::remove((d + "/best_genome.json").c_str());
  std::remove((d + "/g.txt").c_str());
  std::remove((d + "/bad.txt").c_str());
  rmdir(dir);
}

TEST(GenomeTest, HashDiffersForDifferentGenomes) {
  SearchSpace s;
  Genome a = parse_text(s, genome_text()), b = a;
  b[59] = (b[59] + 1) % 5;
  EXPECT_EQ(genome_hash(a), genome_hash(a));
  EXPECT_NE(genome_hash(a), genome_hash(b));
}

}  // namespace
}  // namespace gnas::space
