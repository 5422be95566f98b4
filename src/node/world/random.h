// Random: the node's only source of randomness, and the project's own distributions.
//
// The generator is xoshiro256** 1.0 (Blackman & Vigna, 2018), seeded by expanding a 64-bit seed with
// SplitMix64, as its authors recommend. The distribution functions below are this project's own:
// the standard library's distributions are implementation-defined and would make a seed mean
// different runs on different platforms. Every function consumes a documented number of 64-bit
// outputs (bounded integers may reject and draw again), so the whole stream is a pure function of the
// seed. tests/node/world/random_test.cc pins the first outputs: a change there shifts every seed.
//
//   world::Random rng(42);
//   uint64_t die = rng.Uniform(6) + 1;             // 1..6
//   if (rng.Bernoulli(0.01)) DropMessage();
//   world::Duration d = world::Micros(static_cast<int64_t>(rng.Exponential(5000.0)));
//   world::Random child = rng.Fork("network");     // an independent stream for a subsystem
//
// Thread-safety: none.
#ifndef QDSIM_NODE_WORLD_RANDOM_H_
#define QDSIM_NODE_WORLD_RANDOM_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace qdsim::world {

class Random {
 public:
  explicit Random(uint64_t seed);

  // A generator with the given raw xoshiro256** state (for reference test vectors).
  // REQUIRES: not all words zero.
  static Random FromState(const std::array<uint64_t, 4>& state);

  // The next raw 64-bit output.
  uint64_t Next();

  // Uniform integer in [0, n). REQUIRES: n > 0. Lemire's multiply-shift with rejection: unbiased.
  uint64_t Uniform(uint64_t n);

  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);

  // Uniform real in [0, 1) with 53 random bits (one output).
  double UniformReal();

  // Uniform real in [lo, hi).
  double UniformReal(double lo, double hi);

  // True with probability p (p <= 0: never, p >= 1: always, both without drawing).
  bool Bernoulli(double p);

  // Exponentially distributed real with the given mean (inverse transform of one output).
  double Exponential(double mean);

  // Fisher-Yates shuffle, drawing Uniform(i + 1) for i from size-1 down to 1.
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[Uniform(i)]);
    }
  }

  // An independent generator derived from this one's next output and `label`; streams forked with
  // different labels do not overlap in practice. Consumes one output.
  Random Fork(std::string_view label);

 private:
  Random() = default;
  std::array<uint64_t, 4> s_;  // xoshiro256** state; never all zero.
};

// SplitMix64 step: advances *state and returns a well-mixed output (also used to hash labels).
uint64_t SplitMix64(uint64_t* state);

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_RANDOM_H_
