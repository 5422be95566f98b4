# One way to declare every kind of target, so that a directory's CMakeLists.txt is a short list.
#
#   qdsim_library(NAME SRCS a.cc b.cc [HDRS ...] DEPS lib1 lib2)
#   qdsim_test(NAME SRCS t.cc DEPS lib1 [LABELS l] [TIMEOUT s])   # GoogleTest (+RapidCheck) binary
#   qdsim_benchmark(NAME SRCS b.cc DEPS lib1)                      # Google Benchmark binary
#   qdsim_fuzzer(NAME SRCS f.cc DEPS lib1)                         # libFuzzer binary (QDSIM_FUZZ=ON)
#   qdsim_executable(NAME SRCS main.cc DEPS lib1)
#
# Targets are named qdsim_<NAME>; libraries also get the alias qdsim::<NAME>. Include paths are rooted
# at the repository (src/ and the build tree for generated code), so includes read "node/world/clock.h".

function(_qdsim_parse prefix)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "TIMEOUT" "SRCS;HDRS;DEPS;LABELS")
  foreach(v SRCS HDRS DEPS LABELS TIMEOUT)
    set(${prefix}_${v} "${ARG_${v}}" PARENT_SCOPE)
  endforeach()
endfunction()

function(_qdsim_common target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}
                                              ${PROJECT_BINARY_DIR})
endfunction()

function(qdsim_library name)
  _qdsim_parse(L ${ARGN})
  add_library(qdsim_${name} STATIC ${L_SRCS} ${L_HDRS})
  add_library(qdsim::${name} ALIAS qdsim_${name})
  _qdsim_common(qdsim_${name})
  target_link_libraries(qdsim_${name} PUBLIC ${L_DEPS})
endfunction()

function(qdsim_executable name)
  _qdsim_parse(E ${ARGN})
  add_executable(${name} ${E_SRCS})
  _qdsim_common(${name})
  target_link_libraries(${name} PRIVATE ${E_DEPS})
endfunction()

function(qdsim_test name)
  _qdsim_parse(T ${ARGN})
  add_executable(qdsim_${name} ${T_SRCS})
  _qdsim_common(qdsim_${name})
  target_link_libraries(qdsim_${name} PRIVATE ${T_DEPS} rapidcheck rapidcheck_gtest GTest::gmock
                                                GTest::gtest_main)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  gtest_discover_tests(qdsim_${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${T_TIMEOUT}
                       LABELS "${T_LABELS}")
  # gtest_discover_tests passes PROPERTIES on as a plain list, so a second label would be lost
  # ("LABELS e2e conformance"); set the whole list on the discovered tests (named in
  # <target>_TESTS by the discovery script) instead.
  list(LENGTH T_LABELS label_count)
  if(label_count GREATER 1)
    set(script ${CMAKE_CURRENT_BINARY_DIR}/qdsim_${name}_labels.cmake)
    file(WRITE ${script}
         "foreach(t IN LISTS qdsim_${name}_TESTS)\n"
         "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${T_LABELS}\")\n"
         "endforeach()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
  endif()
endfunction()

function(qdsim_benchmark name)
  _qdsim_parse(B ${ARGN})
  add_executable(qdsim_bench_${name} ${B_SRCS})
  _qdsim_common(qdsim_bench_${name})
  target_link_libraries(qdsim_bench_${name} PRIVATE ${B_DEPS} benchmark::benchmark)
endfunction()

function(qdsim_fuzzer name)
  _qdsim_parse(F ${ARGN})
  add_executable(fuzz_${name} ${F_SRCS})
  _qdsim_common(fuzz_${name})
  target_link_libraries(fuzz_${name} PRIVATE ${F_DEPS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
endfunction()
