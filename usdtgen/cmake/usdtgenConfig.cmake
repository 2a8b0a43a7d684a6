# usdtgenConfig.cmake: USDT probe headers from D provider files, for CMake >= 3.10.
#
#     find_package(usdtgen REQUIRED)
#     add_executable(app app.c)
#     usdtgen_add_provider(app myapp.d)       # app.c: #include "myapp.h"
#
# `pip install usdtgen` installs this file in <prefix>/share/cmake/usdtgen, next to the
# <prefix>/bin/usdtgen command, where find_package looks when <prefix>/bin is on PATH (a
# virtual environment, /usr/local, ~/.local). Elsewhere: -Dusdtgen_DIR=$(usdtgen --cmake-dir).
#
# Defines:
#   USDTGEN_EXECUTABLE   the usdtgen command (cache variable: set it to use another one)
#   usdtgen::usdtgen     the same, as an imported executable target
#   usdtgen_VERSION      its version (find_package(usdtgen 0.1) checks it)
#
#   usdtgen_add_provider(<target> <file.d>
#                        [HEADER <name.h>]   header name (default: the .d file's name, .h)
#                        [CPP]               run the C preprocessor first (usdtgen -C)
#                        [DEFINES <NAME[=VALUE]>...]  macros for it (imply CPP)
#                        [INCLUDES <dir>...]          include directories for it (imply CPP)
#                        [DISABLED])         compile <target> with DTRACE_PROBES_DISABLED=1
#
#   generates the header in ${CMAKE_CURRENT_BINARY_DIR}/usdtgen/<target>/ when the .d file
#   (or, with CPP, a file it #includes: Ninja and Makefiles, CMake >= 3.20) changes,
#   adds it to <target>'s sources and that folder to its include directories. usdtgen
#   rewrites the header only when its content changes, so nothing is recompiled for a
#   provider file that was touched but whose probes did not change.

if(CMAKE_VERSION VERSION_LESS 3.10)
  set(usdtgen_FOUND FALSE)
  set(usdtgen_NOT_FOUND_MESSAGE "usdtgen needs CMake 3.10 or newer (this is ${CMAKE_VERSION})")
  return()
endif()

# the command installed with this file: <prefix>/share/cmake/usdtgen -> <prefix>/bin,
# <prefix>/lib/pythonX.Y/site-packages/usdtgen/cmake -> <prefix>/bin; else the one on PATH
set(_usdtgen_hints)
if(CMAKE_CURRENT_LIST_DIR MATCHES "/share/cmake/usdtgen$")
  get_filename_component(_usdtgen_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
  list(APPEND _usdtgen_hints "${_usdtgen_prefix}/bin")
elseif(CMAKE_CURRENT_LIST_DIR MATCHES "/lib[0-9]*/python[^/]*/(site|dist)-packages/usdtgen/cmake$")
  get_filename_component(_usdtgen_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../../.." ABSOLUTE)
  list(APPEND _usdtgen_hints "${_usdtgen_prefix}/bin")
endif()
find_program(USDTGEN_EXECUTABLE NAMES usdtgen HINTS ${_usdtgen_hints}
             DOC "The usdtgen command (USDT probe headers from D provider files)")
unset(_usdtgen_hints)
unset(_usdtgen_prefix)

if(NOT USDTGEN_EXECUTABLE)
  set(usdtgen_FOUND FALSE)
  set(usdtgen_NOT_FOUND_MESSAGE "the usdtgen command was found neither next to \
${CMAKE_CURRENT_LIST_FILE} nor on PATH (pip install usdtgen, or set USDTGEN_EXECUTABLE)")
  return()
endif()

if(NOT TARGET usdtgen::usdtgen)
  add_executable(usdtgen::usdtgen IMPORTED)
  set_target_properties(usdtgen::usdtgen PROPERTIES IMPORTED_LOCATION "${USDTGEN_EXECUTABLE}")
endif()

if(NOT DEFINED usdtgen_VERSION OR "${usdtgen_VERSION}" STREQUAL "")
  execute_process(COMMAND "${USDTGEN_EXECUTABLE}" --version
                  OUTPUT_VARIABLE _usdtgen_out ERROR_QUIET RESULT_VARIABLE _usdtgen_rc)
  if(_usdtgen_rc EQUAL 0 AND _usdtgen_out MATCHES "version ([0-9][0-9A-Za-z.+-]*)")
    set(usdtgen_VERSION "${CMAKE_MATCH_1}")
  endif()
  unset(_usdtgen_out)
  unset(_usdtgen_rc)
endif()

if(NOT usdtgen_FIND_QUIETLY)
  include(FindPackageMessage)    # says it once, and again only when something changes
  find_package_message(usdtgen
    "Found usdtgen: ${USDTGEN_EXECUTABLE} (found version \"${usdtgen_VERSION}\")"
    "[${USDTGEN_EXECUTABLE}][${usdtgen_VERSION}][${CMAKE_CURRENT_LIST_DIR}]")
endif()

# Functions keep the policies in force where they are defined: DEPFILE paths as CMake 3.20+
# reads them (CMP0116), whatever the calling project asks for.
cmake_policy(PUSH)
cmake_policy(VERSION 3.10)
if(POLICY CMP0116)
  cmake_policy(SET CMP0116 NEW)
endif()

function(usdtgen_add_provider target provider)
  cmake_parse_arguments(PARSE_ARGV 2 _ug "CPP;DISABLED" "HEADER" "DEFINES;INCLUDES")
  if(_ug_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "usdtgen_add_provider: unknown arguments: ${_ug_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET "${target}")
    message(FATAL_ERROR "usdtgen_add_provider: ${target} is not a target "
                        "(call it after add_executable or add_library)")
  endif()

  get_filename_component(_source "${provider}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(_ug_HEADER)
    set(_header "${_ug_HEADER}")
  else()
    get_filename_component(_header "${provider}" NAME)
    string(REGEX REPLACE "\\.d$" "" _header "${_header}")
    set(_header "${_header}.h")
  endif()
  set(_dir "${CMAKE_CURRENT_BINARY_DIR}/usdtgen/${target}")
  set(_output "${_dir}/${_header}")

  set(_flags)
  set(_depfile)
  if(_ug_CPP OR _ug_DEFINES OR _ug_INCLUDES)
    list(APPEND _flags -C)
    foreach(_include IN LISTS _ug_INCLUDES)
      get_filename_component(_include "${_include}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      list(APPEND _flags "-I${_include}")
    endforeach()
    foreach(_define IN LISTS _ug_DEFINES)
      list(APPEND _flags "-D${_define}")
    endforeach()
    # what cpp read, for the generators that take a depfile from a custom command (the
    # paths in it are absolute, which CMake 3.20 and later map to Ninja's own)
    if(NOT CMAKE_VERSION VERSION_LESS 3.20 AND CMAKE_GENERATOR MATCHES "Ninja|Makefiles")
      set(_depfile DEPFILE "${_output}.dep")
      list(APPEND _flags --depfile "${_output}.dep")
    endif()
  endif()

  # Ninja sees that an unchanged header kept its time (restat) and recompiles nothing; make
  # needs the header newer than its inputs to settle (dependents are then rebuilt once)
  if(CMAKE_GENERATOR MATCHES "Ninja")
    list(APPEND _flags --no-touch)
  endif()

  file(RELATIVE_PATH _shown "${CMAKE_BINARY_DIR}" "${_output}")
  add_custom_command(
    OUTPUT "${_output}"
    COMMAND "${USDTGEN_EXECUTABLE}" -h -s "${_source}" -o "${_output}" ${_flags}
    DEPENDS "${_source}" "${USDTGEN_EXECUTABLE}"
    ${_depfile}
    COMMENT "Generating ${_shown} (usdtgen)"
    VERBATIM)
  target_sources("${target}" PRIVATE "${_output}")
  target_include_directories("${target}" PRIVATE "${_dir}")
  if(_ug_DISABLED)
    target_compile_definitions("${target}" PRIVATE DTRACE_PROBES_DISABLED=1)
  endif()
endfunction()

cmake_policy(POP)
