#include "frontend/onnx/TensorProto.h"

#include "onnx/onnx_pb.h"
#include <cmath>
#include <gtest/gtest.h>

using namespace nncc;

TEST(TensorProto, RawDataRoundTrip) {
  Tensor t(DType::Float32, {2, 3});
  for (int k = 0; k < 6; ++k)
    t.data<float>()[k] = k * 1.5f - 2;
  onnx::TensorProto p;
  tensorToProto(t, "x", p);
  Tensor back;
  std::string error;
  ASSERT_TRUE(tensorFromProto(p, "", back, error)) << error;
  EXPECT_EQ(back.shape(), t.shape());
  EXPECT_EQ(back.dtype(), DType::Float32);
  for (int k = 0; k < 6; ++k)
    EXPECT_EQ(back.data<float>()[k], t.data<float>()[k]);
}

TEST(TensorProto, TypedFields) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::INT8);
  p.add_dims(3);
  for (int v : {-5, 0, 7})
    p.add_int32_data(v);
  Tensor t;
  std::string error;
  ASSERT_TRUE(tensorFromProto(p, "", t, error)) << error;
  EXPECT_EQ(t.dtype(), DType::Int8);
  EXPECT_EQ(t.data<int8_t>()[0], -5);
  EXPECT_EQ(t.data<int8_t>()[2], 7);

  onnx::TensorProto d;
  d.set_data_type(onnx::TensorProto::INT64);
  d.add_dims(2);
  d.add_int64_data(int64_t(1) << 40);
  d.add_int64_data(-3);
  ASSERT_TRUE(tensorFromProto(d, "", t, error)) << error;
  EXPECT_EQ(t.data<int64_t>()[0], int64_t(1) << 40);
}

TEST(TensorProto, SizeMismatchIsAnError) {
  onnx::TensorProto p;
  p.set_name("w");
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(4);
  p.set_raw_data(std::string(12, '\0'));
  Tensor t;
  std::string error;
  EXPECT_FALSE(tensorFromProto(p, "", t, error));
  EXPECT_NE(error.find("tensor 'w' holds 12 bytes"), std::string::npos) << error;

  onnx::TensorProto s;
  s.set_data_type(onnx::TensorProto::STRING);
  EXPECT_FALSE(tensorFromProto(s, "", t, error));
  EXPECT_NE(error.find("string"), std::string::npos) << error;
}

TEST(TensorProto, HalfAndBFloat16Conversions) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f})
    EXPECT_EQ(halfToFloat(floatToHalf(f)), f) << f;
  EXPECT_TRUE(std::isinf(halfToFloat(floatToHalf(1e6f))));
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_EQ(bf16ToFloat(floatToBf16(1.0f)), 1.0f);
  EXPECT_EQ(bf16ToFloat(floatToBf16(-3.0f)), -3.0f);
}

TEST(TensorProto, ReadingAMissingFileNamesIt) {
  Tensor t;
  std::string name, error;
  EXPECT_FALSE(readTensorFile("/nonexistent/input_0.pb", t, name, error));
  EXPECT_NE(error.find("/nonexistent/input_0.pb"), std::string::npos) << error;
}
