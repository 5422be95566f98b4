// Helpers for the HTTP tests: requests and parser events as comparable strings, feeding a stream in
// chosen pieces, and a RapidCheck generator of valid request streams.
//
//   std::vector<std::string> expected;
//   const std::string stream = GenRequestStream(&expected);  // inside an RC_GTEST_PROP
//   RC_ASSERT(EventsOfPieces(stream, {3, 17}) == EventsOf(stream));
//
// Thread-safety: none needed; test code.
#ifndef QDSIM_TESTS_REAL_HTTP_HTTP_TEST_UTIL_H_
#define QDSIM_TESTS_REAL_HTTP_HTTP_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "real/http/request.h"
#include "real/http/request_parser.h"

namespace qdsim::http::testing_util {

// One line naming every field of `request` (bytes escaped), so that two requests compare equal
// exactly when their descriptions do.
std::string Describe(const HttpRequest& request);

// The parser's events for `stream` fed at once: "continue", "request <Describe>" or
// "error <status> <message>" (parsing stops at the first error).
std::vector<std::string> EventsOf(std::string_view stream, const HttpLimits& limits = {});

// The same, with `stream` fed in pieces cut at `cuts` (positions in any order; repeats and 0 or
// stream.size() give empty pieces) and events drained after every piece.
std::vector<std::string> EventsOfPieces(std::string_view stream, std::vector<size_t> cuts,
                                        const HttpLimits& limits = {});

// A random stream of 1 to 4 valid requests (random methods, escaped paths and queries, extra
// headers with surrounding whitespace, Content-Length or chunked bodies with extensions and
// trailers, HTTP/1.0 or 1.1, CRLF or LF line endings). *expected receives "request <Describe>" for
// each request, built from the generated values rather than from parsing. Call only inside a
// RapidCheck property.
std::string GenRequestStream(std::vector<std::string>* expected);

}  // namespace qdsim::http::testing_util

#endif  // QDSIM_TESTS_REAL_HTTP_HTTP_TEST_UTIL_H_
