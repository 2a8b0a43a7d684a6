# usdtgenConfigVersion.cmake: the version of the usdtgen command next to this file (else on
# PATH), as `usdtgen --version` prints it; compatible with requests of the same major version.

set(PACKAGE_VERSION "")
set(_usdtgen_candidates usdtgen)      # on PATH, after the one installed with this file
if(CMAKE_CURRENT_LIST_DIR MATCHES "/share/cmake/usdtgen$")
  list(INSERT _usdtgen_candidates 0 "${CMAKE_CURRENT_LIST_DIR}/../../../bin/usdtgen")
elseif(CMAKE_CURRENT_LIST_DIR MATCHES "/lib[0-9]*/python[^/]*/(site|dist)-packages/usdtgen/cmake$")
  list(INSERT _usdtgen_candidates 0 "${CMAKE_CURRENT_LIST_DIR}/../../../../../bin/usdtgen")
endif()
if(USDTGEN_EXECUTABLE)
  list(INSERT _usdtgen_candidates 0 "${USDTGEN_EXECUTABLE}")
endif()
foreach(_usdtgen_exe IN LISTS _usdtgen_candidates)
  if(_usdtgen_exe STREQUAL "usdtgen" OR EXISTS "${_usdtgen_exe}")
    execute_process(COMMAND "${_usdtgen_exe}" --version
                    OUTPUT_VARIABLE _usdtgen_out ERROR_QUIET RESULT_VARIABLE _usdtgen_rc)
    if(_usdtgen_rc EQUAL 0 AND _usdtgen_out MATCHES "version ([0-9]+(\\.[0-9]+)*)")
      set(PACKAGE_VERSION "${CMAKE_MATCH_1}")
      break()
    endif()
  endif()
endforeach()
unset(_usdtgen_candidates)
unset(_usdtgen_exe)
unset(_usdtgen_out)
unset(_usdtgen_rc)

if(PACKAGE_VERSION STREQUAL "")
  # no usdtgen command to ask: usdtgenConfig.cmake says so, unless a version was requested
  set(PACKAGE_VERSION "unknown")
  if(NOT PACKAGE_FIND_VERSION AND NOT PACKAGE_FIND_VERSION_RANGE)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
  return()
endif()

set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(PACKAGE_FIND_VERSION_RANGE)
  # find_package(usdtgen 0.1...<1.0): inside the range
  if(NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION_MIN AND
     ((PACKAGE_FIND_VERSION_RANGE_MAX STREQUAL "INCLUDE" AND
       NOT PACKAGE_VERSION VERSION_GREATER PACKAGE_FIND_VERSION_MAX) OR
      (PACKAGE_FIND_VERSION_RANGE_MAX STREQUAL "EXCLUDE" AND
       PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION_MAX)))
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
elseif(PACKAGE_FIND_VERSION)
  string(REGEX MATCH "^[0-9]+" _usdtgen_major "${PACKAGE_VERSION}")
  if(NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION AND
     _usdtgen_major EQUAL PACKAGE_FIND_VERSION_MAJOR)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
    if(PACKAGE_VERSION VERSION_EQUAL PACKAGE_FIND_VERSION)
      set(PACKAGE_VERSION_EXACT TRUE)
    endif()
  endif()
  unset(_usdtgen_major)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
