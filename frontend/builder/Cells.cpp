//===- Cells.cpp - recurrent cells unrolled on a GraphBuilder -------------===//
#include "frontend/builder/Cells.h"

namespace nncc {
namespace cells {

namespace {

/// x [T, B, I] -> (x W + bias) as [T*B, N]: one matmul for every timestep.
Value hoisted(GraphBuilder &g, Value x, Value w, Value bias, int64_t &T, int64_t &B) {
  auto s = g.shape(x);
  if (s.size() != 3)
    return g.reshape(x, {-1, -1}); // fails in the builder, naming reshape
  T = s[0];
  B = s[1];
  return g.matmul(g.reshape(x, {T * B, s[2]}), w, bias);
}

/// The per-step outputs [B, H] as y [T, B, H].
Value stackSteps(GraphBuilder &g, const std::vector<Value> &hs, int64_t T, int64_t B) {
  Value all = g.concat(hs, 0);
  auto s = g.shape(all);
  return g.reshape(all, {T, B, s.empty() ? -1 : s[1]});
}

int64_t hiddenOf(GraphBuilder &g, Value r, int64_t gates) {
  auto s = g.shape(r);
  return s.size() == 2 ? s[1] / gates : 1;
}

/// The LSTM state update from the gate pre-activations (i, o, f, c).
void lstmUpdate(GraphBuilder &g, Value pre, int64_t H, Value &h, Value &c) {
  Value i = g.sigmoid(g.slice(pre, 1, 0, H)), o = g.sigmoid(g.slice(pre, 1, H, 2 * H));
  Value f = g.sigmoid(g.slice(pre, 1, 2 * H, 3 * H)), cand = g.tanh(g.slice(pre, 1, 3 * H, 4 * H));
  c = g.add(g.mul(f, c), g.mul(i, cand));
  h = g.mul(o, g.tanh(c));
}

/// The skeleton every layer shares: the hoisted projection x W (+ bias) of
/// all steps, a zero state h, then h = step(x_t W, h, H) for each step; y
/// stacks the h's.
template <typename Step>
Value unroll(GraphBuilder &g, Value x, Value w, Value bias, Value r, int64_t gates, Step step) {
  int64_t T = 0, B = 0, H = hiddenOf(g, r, gates);
  Value xw = hoisted(g, x, w, bias, T, B);
  Value h = g.constant({B > 0 ? B : 1, H}, 0.f);
  std::vector<Value> hs;
  for (int64_t t = 0; t < T; ++t) {
    h = step(g.slice(xw, 0, t * B, (t + 1) * B), h, H);
    hs.push_back(h);
  }
  return stackSteps(g, hs, T, B);
}

} // namespace

Value lstm(GraphBuilder &g, Value x, const LSTMWeights &weights) {
  Value c; // zero, as h, before the first step
  return unroll(g, x, weights.w, weights.b, weights.r, 4, [&](Value xt, Value h, int64_t H) {
    if (!c.valid())
      c = h;
    lstmUpdate(g, g.add(xt, g.matmul(h, weights.r)), H, h, c);
    return h;
  });
}

Value gru(GraphBuilder &g, Value x, const GRUWeights &weights) {
  return unroll(g, x, weights.w, weights.bw, weights.r, 3, [&](Value xt, Value h, int64_t H) {
    Value hr = g.matmul(h, weights.r, weights.br);
    Value z = g.sigmoid(g.add(g.slice(xt, 1, 0, H), g.slice(hr, 1, 0, H)));
    Value r = g.sigmoid(g.add(g.slice(xt, 1, H, 2 * H), g.slice(hr, 1, H, 2 * H)));
    Value n = g.tanh(g.add(g.slice(xt, 1, 2 * H, 3 * H), g.mul(r, g.slice(hr, 1, 2 * H, 3 * H))));
    return g.add(n, g.mul(z, g.sub(h, n))); // (1 - z) n + z h
  });
}

Value miLSTM(GraphBuilder &g, Value x, const MILSTMWeights &weights) {
  Value c;
  return unroll(g, x, weights.w, Value(), weights.r, 4, [&](Value wx, Value h, int64_t H) {
    if (!c.valid())
      c = h;
    Value rh = g.matmul(h, weights.r);
    Value pre = g.add(g.add(g.mul(g.mul(weights.alpha, wx), rh), g.mul(weights.beta1, wx)),
                      g.add(g.mul(weights.beta2, rh), weights.b));
    lstmUpdate(g, pre, H, h, c);
    return h;
  });
}

Value stackedLSTM(GraphBuilder &g, Value x, const std::vector<LSTMWeights> &layers) {
  for (const LSTMWeights &l : layers)
    x = lstm(g, x, l);
  return x;
}

Value stackedGRU(GraphBuilder &g, Value x, const std::vector<GRUWeights> &layers) {
  for (const GRUWeights &l : layers)
    x = gru(g, x, l);
  return x;
}

Value projectKeys(GraphBuilder &g, Value keys, Value wk) { return g.matmul(keys, wk); }

Value attend(GraphBuilder &g, Value keysProj, Value keys, Value query, Value wq, Value v, Value *weights) {
  auto ks = g.shape(keysProj);
  int64_t S = ks.size() == 3 ? ks[0] : 1, B = ks.size() == 3 ? ks[1] : 1;
  Value q = g.matmul(query, wq);                              // [B, A]
  Value e = g.matmul(g.tanh(g.add(keysProj, q)), v);          // [S, B, 1]
  Value a = g.softmax(g.reshape(e, {S, B}), 0);               // over the keys
  if (weights)
    *weights = a;
  return g.reduceSum(g.mul(g.reshape(a, {S, B, 1}), keys), {0}, false); // [B, K]
}

} // namespace cells
} // namespace nncc
