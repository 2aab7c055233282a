#include "ir/ShapeUtils.h"

#include "mlir/IR/MLIRContext.h"
#include <gtest/gtest.h>

using namespace nncc::nn;

TEST(ShapeUtils, BroadcastFollowsNumpy) {
  Shape out;
  ASSERT_TRUE(broadcastShapes({2, 3, 4}, {4}, out));
  EXPECT_EQ(out, (Shape{2, 3, 4}));
  ASSERT_TRUE(broadcastShapes({2, 1, 4}, {3, 1}, out));
  EXPECT_EQ(out, (Shape{2, 3, 4}));
  ASSERT_TRUE(broadcastShapes({}, {5}, out));
  EXPECT_EQ(out, (Shape{5}));
  EXPECT_FALSE(broadcastShapes({2, 3}, {4, 3, 2}, out));
  ASSERT_TRUE(broadcastShapes({0, 1}, {1, 5}, out));
  EXPECT_EQ(out, (Shape{0, 5}));
}

TEST(ShapeUtils, NormalizeAxis) {
  EXPECT_EQ(normalizeAxis(-1, 4), 3);
  EXPECT_EQ(normalizeAxis(2, 4), 2);
  EXPECT_EQ(normalizeAxis(4, 4), -1);
  EXPECT_EQ(normalizeAxis(-5, 4), -1);
}

TEST(ShapeUtils, WindowOutputSize) {
  // 224 input, 7x7 kernel, stride 2, pad 3: ResNet's first convolution.
  EXPECT_EQ(windowOutputSize(224, 7, 2, 3, 3, 1, false), 112);
  // 112, 3x3 max pool, stride 2, pad 1.
  EXPECT_EQ(windowOutputSize(112, 3, 2, 1, 1, 1, false), 56);
  // ceil_mode adds the partial window unless it starts in the right padding.
  EXPECT_EQ(windowOutputSize(5, 2, 2, 0, 0, 1, false), 2);
  EXPECT_EQ(windowOutputSize(5, 2, 2, 0, 0, 1, true), 3);
  EXPECT_EQ(windowOutputSize(4, 2, 2, 0, 1, 1, true), 2);
  // Dilation widens the window.
  EXPECT_EQ(windowOutputSize(10, 3, 1, 0, 0, 2, false), 6);
}

TEST(ShapeUtils, OnnxTypeCodesRoundTrip) {
  mlir::MLIRContext ctx;
  for (int code : {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 16}) {
    mlir::Type t = typeFromOnnxDataType(&ctx, code);
    ASSERT_TRUE(t) << code;
    EXPECT_EQ(onnxDataType(t), code);
  }
  EXPECT_FALSE(typeFromOnnxDataType(&ctx, 8)); // string
  EXPECT_EQ(elementByteSize(typeFromOnnxDataType(&ctx, 9)), 1);
}
