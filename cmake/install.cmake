# make install: both libraries, the headers, a pkg-config file and a CMake
# package, so that users build with `pkg-config --cflags --libs weft` or
# `find_package(weft)` and `target_link_libraries(app weft::weft)`.
include(CMakePackageConfigHelpers)

install(TARGETS weft weft_static EXPORT weftTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT weftTargets NAMESPACE weft:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/weft)

configure_package_config_file(cmake/weftConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/weft)
# Semantic versioning (README.md): from 1.0 on, any later version of the same
# major one will do; before it, a minor release may break the interface, so
# only the same 0.MINOR will.
if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(WEFT_COMPATIBILITY SameMinorVersion)
else()
    set(WEFT_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
    COMPATIBILITY ${WEFT_COMPATIBILITY})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/weft)

configure_file(cmake/weft.pc.in ${CMAKE_CURRENT_BINARY_DIR}/weft.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weft.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
