# `cmake --install` (docs/client.md, "Installing"): the node and the CLI,
# the client library with its public headers (include/godistlock/), a CMake
# package (find_package(GoDistLock) -> GoDistLock::client) and a pkg-config
# file (godistlock.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# One static archive holding the client library and everything below it,
# so a consumer links one library plus CAF and Protobuf (the libgdl_*.a
# pieces stay as they are for in-tree users).
add_library(godistlock_client STATIC
  $<TARGET_OBJECTS:gdl_client> $<TARGET_OBJECTS:gdl_actors> $<TARGET_OBJECTS:gdl_messages>
  $<TARGET_OBJECTS:gdl_core> $<TARGET_OBJECTS:gdl_proto>)
set_target_properties(godistlock_client PROPERTIES
  OUTPUT_NAME godistlock-client EXPORT_NAME client LINKER_LANGUAGE CXX)
target_include_directories(godistlock_client INTERFACE
  "$<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
# The public headers need only the standard library, hence PRIVATE: a
# static library still passes these on to the consumer's link.
target_link_libraries(godistlock_client PRIVATE CAF::io CAF::core protobuf::libprotobuf
  Threads::Threads)
target_compile_features(godistlock_client INTERFACE cxx_std_17)
add_library(GoDistLock::client ALIAS godistlock_client)

install(TARGETS godistlock-node godistlock RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS godistlock_client EXPORT GoDistLockTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(DIRECTORY include/godistlock DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

set(gdl_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/GoDistLock")
install(EXPORT GoDistLockTargets NAMESPACE GoDistLock:: DESTINATION "${gdl_cmake_dir}")
configure_package_config_file(cmake/GoDistLockConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/GoDistLockConfig.cmake" INSTALL_DESTINATION "${gdl_cmake_dir}")
# 0.x: a new minor version may change the API.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/GoDistLockConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/GoDistLockConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/GoDistLockConfigVersion.cmake" cmake/FindCAF.cmake
  DESTINATION "${gdl_cmake_dir}")

# The .pc finds its prefix from where it lies, so `cmake --install --prefix
# P` (chosen after configure time) still gets it right.
set(gdl_pkgconfig_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
file(RELATIVE_PATH GDL_PC_TO_PREFIX "/${gdl_pkgconfig_dir}" "/")
string(REGEX REPLACE "/$" "" GDL_PC_TO_PREFIX "${GDL_PC_TO_PREFIX}")
configure_file(cmake/godistlock.pc.in "${CMAKE_CURRENT_BINARY_DIR}/godistlock.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/godistlock.pc" DESTINATION "${gdl_pkgconfig_dir}")
