# Installing framepipe: `cmake --install <build> --prefix P`, find_package(framepipe CONFIG),
# pkg-config, and the Debian package (`make package`, CPack). Included by the top-level
# CMakeLists.txt where FRAMEPIPE_INSTALL is on (the default for a top-level build).
#
#   P/bin/framepipe                       the command line (static framepipe inside)
#   P/<libdir>/libframepipe{,_infer,_run}.so.MAJOR.MINOR   the C++ libraries
#   P/<libdir>/framepipe/*.so             the modules loaded on demand (engines, image codecs)
#   P/include/framepipe/                  the public headers (C++20 standard library only)
#   P/<libdir>/cmake/framepipe/           framepipeConfig.cmake, its version file, the targets
#   P/<libdir>/pkgconfig/framepipe.pc
#   P/lib/python3/dist-packages/          the Python module, its stubs and pure-Python parts
#   P/share/man/man1/framepipe.1          the manual page (help2man, from --help)
#
# Shared libraries for C++ users, as is the convention: one copy of the code however many
# libraries of a program use it, security fixes without relinking, and a place of its own from
# which libframepipe.so finds its modules (module_loader.cpp). Only framepipe's namespace is
# exported (cmake/framepipe.map). SOVERSION is MAJOR.MINOR: before 1.0 a minor release may
# change the ABI. The command line, the Python module and the tests link the same objects
# statically: they carry no search path for framepipe's own libraries.
include(CMakePackageConfigHelpers)

if(FRAMEPIPE_SANITIZE OR FRAMEPIPE_FUZZ)
  message(STATUS "framepipe: no install rules in a sanitized or fuzzing build")
  return()
endif()

set(_fp_lib_dir ${PROJECT_BINARY_DIR}/${CMAKE_INSTALL_LIBDIR})
# The shared libraries, made of the static libraries' objects (compiled once, position
# independent), with their dependencies, and the public headers as their interface.
function(framepipe_shared_library name static export_name)
  add_library(${name} SHARED $<TARGET_OBJECTS:${static}>)
  set_target_properties(${name} PROPERTIES
    OUTPUT_NAME ${static} EXPORT_NAME ${export_name}
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    LIBRARY_OUTPUT_DIRECTORY ${_fp_lib_dir} INSTALL_RPATH "$ORIGIN")
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${name} PUBLIC cxx_std_20)
  target_link_options(${name} PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/framepipe.map -Wl,--no-undefined)
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/framepipe.map)
endfunction()

framepipe_shared_library(framepipe_shared framepipe framepipe)
target_link_libraries(framepipe_shared
  PUBLIC  Threads::Threads
  PRIVATE ${CMAKE_DL_LIBS} PkgConfig::FFMPEG opencv_core opencv_imgproc opencv_photo)
framepipe_shared_library(framepipe_infer_shared framepipe_infer infer)
target_link_libraries(framepipe_infer_shared PUBLIC framepipe_shared PRIVATE ${CMAKE_DL_LIBS} opencv_core opencv_imgproc)
framepipe_shared_library(framepipe_run_shared framepipe_run run)
target_link_libraries(framepipe_run_shared PUBLIC framepipe_infer_shared PRIVATE opencv_core opencv_imgproc)

install(TARGETS framepipe_shared framepipe_infer_shared framepipe_run_shared EXPORT framepipeTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS framepipe_engines framepipe_images LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/framepipe)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/framepipe ${PROJECT_BINARY_DIR}/include/framepipe
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET framepipe_cli)
  install(TARGETS framepipe_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  find_program(HELP2MAN help2man)
  if(HELP2MAN)
    add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/framepipe.1
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
              "--name=exact video frames for machine learning: read, sample, infer, transform"
              --output=${PROJECT_BINARY_DIR}/framepipe.1 $<TARGET_FILE:framepipe_cli>
      DEPENDS framepipe_cli VERBATIM)
    add_custom_target(framepipe_man ALL DEPENDS ${PROJECT_BINARY_DIR}/framepipe.1)
    install(FILES ${PROJECT_BINARY_DIR}/framepipe.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  else()
    message(STATUS "framepipe: help2man not found, no manual page")
  endif()
endif()
if(TARGET framepipe_python)
  install(TARGETS framepipe_python LIBRARY DESTINATION ${FRAMEPIPE_PYTHON_INSTALL_DIR})
  install(FILES ${PROJECT_SOURCE_DIR}/python/framepipe.pyi DESTINATION ${FRAMEPIPE_PYTHON_INSTALL_DIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/framepipe DESTINATION ${FRAMEPIPE_PYTHON_INSTALL_DIR}
          PATTERN __pycache__ EXCLUDE)
endif()

set(_fp_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/framepipe)
install(EXPORT framepipeTargets NAMESPACE framepipe:: DESTINATION ${_fp_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/framepipeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/framepipeConfig.cmake INSTALL_DESTINATION ${_fp_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/framepipeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/framepipeConfig.cmake ${PROJECT_BINARY_DIR}/framepipeConfigVersion.cmake
        DESTINATION ${_fp_cmake_dir})
# framepipe.pc finds its prefix from its own folder (${pcfiledir}): a moved prefix still works.
file(RELATIVE_PATH FRAMEPIPE_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" FRAMEPIPE_PC_TO_PREFIX "${FRAMEPIPE_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/framepipe.pc.in ${PROJECT_BINARY_DIR}/framepipe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/framepipe.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Debian package: `make package` (cpack in the build), framepipe_<version>_amd64.deb with
# everything above under /usr, its Depends computed by dpkg-shlibdeps from the binaries.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME framepipe)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "framepipe developers <framepipe@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "exact video frames for machine learning")
set(CPACK_PACKAGE_DESCRIPTION "framepipe reads exact frames and clips of videos by index or time, samples,
resizes and normalises them into tensors, runs models over files and live streams, and
transforms videos keeping their audio and timing. Command line, C++ libraries and headers
(CMake and pkg-config files), and the Python module for Debian's python3.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${_fp_lib_dir})
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # a shlibs file, and ldconfig triggered
# The Python module is built for this python3 (its ABI tag is in its name); numpy is what its
# arrays are.
if(TARGET framepipe_python)
  math(EXPR _fp_py_next "${Python3_VERSION_MINOR} + 1")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3 (>= ${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}~), python3 (<< ${Python3_VERSION_MAJOR}.${_fp_py_next}), python3-numpy")
endif()
include(CPack)
