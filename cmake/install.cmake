# SPDX-License-Identifier: MIT
# make install: both libraries, the headers, a pkg-config file and a CMake
# package, so that users build with `pkg-config --cflags --libs weft` or
# `find_package(weft)` and `target_link_libraries(app weft::weft)`. Where
# the mpi layer is built, libweft_mpi too, with weft-mpi.pc and the CMake
# target weft::mpi (find_package(weft COMPONENTS mpi)), in an export set of
# its own, so that programs without MPI never need MPI to find weft.
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

# weft.pc's Libs carry a run path where the libdir is not one the toolchain
# and the dynamic linker search anyway (/usr/local, /opt/weft), so that a
# program finds libweft.so without LD_LIBRARY_PATH; and the file finds its
# prefix from its own folder, however deep the libdir (lib, lib64,
# lib/<multiarch>), so that the installed tree can move. Where the libdir is
# a system one (a distribution's package: /usr/lib/<multiarch>), there is no
# run path and the prefix is written as it is.
if("${CMAKE_INSTALL_FULL_LIBDIR}" IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES
   OR "${CMAKE_INSTALL_FULL_LIBDIR}" IN_LIST CMAKE_PLATFORM_IMPLICIT_LINK_DIRECTORIES)
    set(WEFT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
    set(WEFT_PC_RPATH "")
else()
    file(RELATIVE_PATH WEFT_PC_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
         "${CMAKE_INSTALL_PREFIX}")
    string(REGEX REPLACE "/$" "" WEFT_PC_PREFIX "\${pcfiledir}/${WEFT_PC_PREFIX}")
    set(WEFT_PC_RPATH "-Wl,-rpath,\${libdir} ")
endif()
configure_file(cmake/weft.pc.in ${CMAKE_CURRENT_BINARY_DIR}/weft.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weft.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(WEFT_HAVE_MPI)
    set_target_properties(weft_mpi PROPERTIES EXPORT_NAME mpi)
    set_target_properties(weft_mpi_static PROPERTIES EXPORT_NAME mpi_static)
    install(TARGETS weft_mpi weft_mpi_static EXPORT weftMpiTargets
            LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
            ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
            INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
    install(EXPORT weftMpiTargets NAMESPACE weft::
            DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/weft)

    # MPI's own flags: through its pkg-config file where it has one
    # (Debian's mpi-c, whichever MPI is chosen), else as CMake found them.
    pkg_check_modules(WEFT_MPI_PC QUIET mpi-c)
    set(WEFT_MPI_PC_REQUIRES "")
    set(WEFT_MPI_PC_CFLAGS "")
    set(WEFT_MPI_PC_LIBS "")
    if(WEFT_MPI_PC_FOUND)
        set(WEFT_MPI_PC_REQUIRES "mpi-c")
    else()
        foreach(dir ${MPI_C_INCLUDE_DIRS})
            string(APPEND WEFT_MPI_PC_CFLAGS " -I${dir}")
        endforeach()
        foreach(lib ${MPI_C_LIBRARIES})
            string(APPEND WEFT_MPI_PC_LIBS " ${lib}")
        endforeach()
    endif()
    configure_file(cmake/weft-mpi.pc.in ${CMAKE_CURRENT_BINARY_DIR}/weft-mpi.pc @ONLY)
    install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weft-mpi.pc
            DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
