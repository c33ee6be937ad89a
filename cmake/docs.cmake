# SPDX-License-Identifier: MIT
# The reference: HTML and section-3 man pages made by Doxygen (Debian's
# doxygen; `./run docs` installs it) from the public headers' comments and
# the guides in docs/. Built with the library when doxygen is found, so that
# `make install` installs the man pages (`man weft_executor_submit`);
# `make docs` builds it alone. Without doxygen there is no reference, and
# configuring says so. tests/docs checks that everything public is
# documented.
find_package(Doxygen QUIET)
set(WEFT_DOCS_DIR ${PROJECT_BINARY_DIR}/docs)
if(DOXYGEN_FOUND)
    configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${WEFT_DOCS_DIR}/Doxyfile @ONLY)
    file(GLOB WEFT_DOC_SOURCES CONFIGURE_DEPENDS
         ${PROJECT_SOURCE_DIR}/include/*.h ${PROJECT_SOURCE_DIR}/include/weft/*.h
         ${PROJECT_SOURCE_DIR}/docs/*.md ${PROJECT_SOURCE_DIR}/docs/python/*.py
         ${PROJECT_SOURCE_DIR}/docs/doxygen-filter.awk
         ${PROJECT_SOURCE_DIR}/docs/DoxygenLayout.xml
         ${PROJECT_SOURCE_DIR}/examples/*.c)
    add_custom_command(OUTPUT ${WEFT_DOCS_DIR}/stamp
        COMMAND ${CMAKE_COMMAND} -E remove_directory ${WEFT_DOCS_DIR}/html
        COMMAND ${CMAKE_COMMAND} -E remove_directory ${WEFT_DOCS_DIR}/man
        COMMAND ${DOXYGEN_EXECUTABLE} ${WEFT_DOCS_DIR}/Doxyfile
        COMMAND ${CMAKE_COMMAND} -E touch ${WEFT_DOCS_DIR}/stamp
        DEPENDS ${WEFT_DOC_SOURCES} ${WEFT_DOCS_DIR}/Doxyfile
        COMMENT "Doxygen: the reference in ${WEFT_DOCS_DIR}/html and man/man3"
        VERBATIM)
    add_custom_target(docs ALL DEPENDS ${WEFT_DOCS_DIR}/stamp)
    # The pages of weft's names, of its layers (executor.h) and of the guides.
    # Not the links MAN_LINKS makes under each field's bare name (close,
    # wait, shutdown, ...): man looks in section 3 before 2, so that
    # installed they would hide the system's own pages.
    install(DIRECTORY ${WEFT_DOCS_DIR}/man/man3 DESTINATION ${CMAKE_INSTALL_MANDIR}
            FILES_MATCHING PATTERN "weft_*.3" PATTERN "WEFT_*.3" PATTERN "guide_*.3"
                           PATTERN "*.h.3")
    install(DIRECTORY ${WEFT_DOCS_DIR}/html DESTINATION ${CMAKE_INSTALL_DOCDIR})
else()
    message(STATUS "weft: doxygen not found (install doxygen, or `./run docs`): "
                   "no reference, and no man pages to install")
    add_custom_target(docs
        COMMAND ${CMAKE_COMMAND} -E echo "weft: the reference needs doxygen (./run docs installs it)"
        COMMAND ${CMAKE_COMMAND} -E false)
endif()
