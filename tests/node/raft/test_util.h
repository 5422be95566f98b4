// Helpers shared by the Raft unit tests.
#ifndef QDSIM_TESTS_NODE_RAFT_TEST_UTIL_H_
#define QDSIM_TESTS_NODE_RAFT_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proto/raft.pb.h"

namespace qdsim::raft {

// An entry at (index, term) carrying `data`.
inline raftpb::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

// Entries with consecutive indexes from `first` and the given terms.
inline std::vector<raftpb::Entry> MakeEntries(uint64_t first, const std::vector<uint64_t>& terms) {
  std::vector<raftpb::Entry> out;
  for (size_t i = 0; i < terms.size(); ++i) out.push_back(MakeEntry(first + i, terms[i]));
  return out;
}

// The (index, term) pairs of `entries`.
inline std::vector<std::pair<uint64_t, uint64_t>> IndexTerms(
    const std::vector<raftpb::Entry>& entries) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const raftpb::Entry& e : entries) out.emplace_back(e.index(), e.term());
  return out;
}

}  // namespace qdsim::raft

#endif  // QDSIM_TESTS_NODE_RAFT_TEST_UTIL_H_
