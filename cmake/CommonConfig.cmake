# Flags shared by every Switchyard target (see shared conventions: one INTERFACE target).
add_library(switchyard_common_cfg INTERFACE)
target_compile_features(switchyard_common_cfg INTERFACE cxx_std_20)
target_compile_options(switchyard_common_cfg INTERFACE
    -Wall -Wextra -pedantic -Wold-style-cast -Wnon-virtual-dtor)
target_compile_definitions(switchyard_common_cfg INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_USE_QSTRINGBUILDER
    QT_DISABLE_DEPRECATED_BEFORE=0x060400)
set(CMAKE_CXX_EXTENSIONS OFF)
