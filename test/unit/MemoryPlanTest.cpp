// The arena plan never lets two live buffers overlap, and reuses memory.
#include "driver/Compiler.h"
#include "passes/MemoryPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace mlir;

static const char *kChain = R"mlir(
func.func @main(%x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %a = nn.relu %x : tensor<64x256xf32>
  %b = nn.exp %a : tensor<64x256xf32>
  %c = nn.add %a, %b : tensor<64x256xf32>, tensor<64x256xf32>
  %r = nn.reshape %c {shape = [256, 64]} : tensor<64x256xf32> -> tensor<256x64xf32>
  %d = nn.sigmoid %r : tensor<256x64xf32>
  %e = nn.tanh %d : tensor<256x64xf32>
  %f = nn.neg %e : tensor<256x64xf32>
  %g = nn.reshape %f {shape = [64, 256]} : tensor<256x64xf32> -> tensor<64x256xf32>
  %h = nn.add %g, %c : tensor<64x256xf32>, tensor<64x256xf32>
  return %h : tensor<64x256xf32>
}
)mlir";

TEST(MemoryPlan, LiveBuffersNeverOverlapAndMemoryIsReused) {
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, kChain);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  nncc::MemoryPlan plan = nncc::planMemory(func);

  // Lifetimes of roots: [definition, last use] over op indices.
  std::vector<Operation *> ops;
  for (Operation &op : func.getBody().front())
    ops.push_back(&op);
  auto indexOf = [&](Operation *op) { return std::find(ops.begin(), ops.end(), op) - ops.begin(); };
  std::map<Value *, int> dummy;
  struct Live { int64_t from, to, offset, bytes; Value value; };
  std::vector<Live> live;
  for (Operation *op : ops)
    for (Value r : op->getResults()) {
      if (plan.rootOf(r) != r)
        continue;
      const auto &p = plan.of(r);
      if (p.kind != nncc::MemoryPlan::Kind::Arena)
        continue;
      int64_t last = indexOf(op);
      for (Operation *user : ops)
        for (Value operand : user->getOperands())
          if (plan.rootOf(operand) == r)
            last = std::max<int64_t>(last, indexOf(user));
      live.push_back({indexOf(op), last, p.offset, p.bytes, r});
    }
  ASSERT_GE(live.size(), 5u);
  for (size_t i = 0; i < live.size(); ++i)
    for (size_t j = i + 1; j < live.size(); ++j) {
      bool timeOverlap = live[i].from <= live[j].to && live[j].from <= live[i].to;
      // Written in place: the result takes the buffer at its operand's last use.
      auto inPlace = [&](const Live &a, const Live &b) {
        auto it = plan.inPlaceOf.find(b.value);
        return it != plan.inPlaceOf.end() && it->second == a.value && b.from == a.to;
      };
      if (inPlace(live[i], live[j]) || inPlace(live[j], live[i]))
        continue;
      bool memOverlap = live[i].offset < live[j].offset + live[j].bytes && live[j].offset < live[i].offset + live[i].bytes;
      EXPECT_FALSE(timeOverlap && memOverlap) << "buffers " << i << " and " << j << " overlap while live";
    }
  EXPECT_LT(plan.arenaBytes, plan.totalBytes);
  // tanh(%d) and neg(%e) overwrite their operands, which die there.
  EXPECT_GE(plan.inPlaceOf.size(), 2u);
  for (auto &[result, operand] : plan.inPlaceOf)
    EXPECT_EQ(plan.of(result).offset, plan.of(operand).offset);
  // The returned value is written into the caller's buffer.
  Value ret = func.getBody().front().getTerminator()->getOperand(0);
  EXPECT_EQ(plan.of(ret).kind, nncc::MemoryPlan::Kind::Output);
}

/// A long chain of elementwise ops: each result takes its operand's buffer
/// over. Every handover inserts into the plan's placement map, which grows
/// several times on the way; the handed-over placement must survive that
/// (it was once read from the map's old, freed storage: the ctest runs this
/// under MALLOC_PERTURB_, which makes such a read fail every time).
TEST(MemoryPlan, InPlaceHandoversSurviveTheMapGrowing) {
  const int n = 300;
  std::string body = "func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {\n  %v0 = nn.relu %x : tensor<8x16xf32>\n";
  for (int i = 1; i < n; ++i)
    body += "  %v" + std::to_string(i) + " = nn.exp %v" + std::to_string(i - 1) + " : tensor<8x16xf32>\n";
  body += "  %out = nn.neg %v" + std::to_string(n - 1) + " : tensor<8x16xf32>\n  return %out : tensor<8x16xf32>\n}\n";
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, body);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  nncc::MemoryPlan plan = nncc::planMemory(func);

  std::vector<Value> chain;
  for (Operation &op : func.getBody().front().without_terminator())
    chain.push_back(op.getResult(0));
  ASSERT_EQ(chain.size(), (size_t)n + 1);
  const auto &first = plan.of(chain[0]);
  ASSERT_EQ(first.kind, nncc::MemoryPlan::Kind::Arena);
  for (int i = 1; i < n; ++i) {
    const auto &p = plan.of(chain[i]);
    ASSERT_EQ(p.kind, nncc::MemoryPlan::Kind::Arena) << "value " << i;
    EXPECT_EQ(p.offset, first.offset) << "value " << i;
    EXPECT_EQ(p.bytes, first.bytes) << "value " << i;
    EXPECT_EQ(plan.inPlaceOf.lookup(chain[i]), chain[i - 1]) << "value " << i;
  }
  EXPECT_EQ(plan.of(chain[n]).kind, nncc::MemoryPlan::Kind::Output);
  EXPECT_EQ(plan.arenaBytes, 8 * 16 * 4);
}

/// An nn.fused op writes in place of an operand of its shape that dies
/// there, but not of one its body slices: a slice reads other elements
/// (here row 0, broadcast to every row) after the loop has written them.
TEST(MemoryPlan, FusedNeverOverwritesAnArgumentItSlices) {
  const char *body = R"mlir(
func.func @main(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %x = nn.exp %a : tensor<4x8xf32>
  %y = nn.fused(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%v: tensor<4x8xf32>):
    %s = nn.slice %v {sizes = [1, 8], starts = [0, 0], steps = [1, 1]} : tensor<4x8xf32> -> tensor<1x8xf32>
    %t = nn.add %v, %s : tensor<4x8xf32>, tensor<1x8xf32>
    nn.yield %t : tensor<4x8xf32>
  }
  %z = nn.fused(%y) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%v: tensor<4x8xf32>):
    %e = nn.exp %v : tensor<4x8xf32>
    %n = nn.neg %e : tensor<4x8xf32>
    nn.yield %n : tensor<4x8xf32>
  }
  %w = nn.neg %z : tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}
)mlir";
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, body);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  nncc::MemoryPlan plan = nncc::planMemory(func);
  auto ops = func.getBody().front().without_terminator();
  auto it = ops.begin();
  Value x = (it++)->getResult(0), y = (it++)->getResult(0), z = (it++)->getResult(0);
  EXPECT_FALSE(plan.inPlaceOf.count(y)) << "the sliced argument was overwritten";
  EXPECT_NE(plan.of(y).offset, plan.of(x).offset);
  // (the next one, slicing nothing, does take its operand's buffer)
  ASSERT_TRUE(plan.inPlaceOf.count(z));
  EXPECT_EQ(plan.inPlaceOf.lookup(z), y);
}
