# bpfplug_add_bpf_object(NAME SOURCE [HEADERS h...] [DEFINES D...])
#
# Compiles SOURCE (a *.bpf.c) with clang for the BPF target against the committed
# vmlinux/vmlinux.h (CO-RE: -g for BTF, -O2), then generates the libbpf skeleton NAME.skel.h
# with bpftool. Defines the INTERFACE target bpf_NAME whose include directory holds the skeleton.
#
# bpftool 7.5 embeds libbpf 1.5 and its skeletons set `map->link` for struct_ops maps, a field
# the libbpf 1.4 headers from bookworm-backports lack. libbpf 1.4 honours the skeleton's
# map_skel_sz stride, so dropping those assignments is safe; bpfplug attaches struct_ops maps
# itself (loader/src/plugin_loader.cpp). This is the one place that handles the mismatch.
set(BPF_INCLUDE_DIRS ${CMAKE_SOURCE_DIR}/vmlinux ${CMAKE_SOURCE_DIR}/struct_ops)
file(GLOB BPF_FRAMEWORK_HEADERS ${CMAKE_SOURCE_DIR}/struct_ops/*.h)

function(bpfplug_add_bpf_object name source)
  cmake_parse_arguments(ARG "" "" "HEADERS;DEFINES" ${ARGN})
  set(outdir ${CMAKE_CURRENT_BINARY_DIR}/bpf)
  set(obj ${outdir}/${name}.bpf.o)
  set(skel ${outdir}/${name}.skel.h)
  set(includes)
  foreach(dir ${BPF_INCLUDE_DIRS} ${LIBBPF_INCLUDE_DIRS})
    list(APPEND includes -I${dir})
  endforeach()
  list(TRANSFORM ARG_DEFINES PREPEND -D)
  get_filename_component(abs_source ${source} ABSOLUTE)

  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${outdir}
    COMMAND ${BPF_CLANG} -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_x86
            ${includes} ${ARG_DEFINES} -c ${abs_source} -o ${obj}
    DEPENDS ${abs_source} ${ARG_HEADERS} ${BPF_FRAMEWORK_HEADERS}
            ${CMAKE_SOURCE_DIR}/vmlinux/vmlinux.h
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}.raw
    COMMAND sed -e "/^[[:space:]]*map->link = /d" ${skel}.raw > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(bpf_${name}_gen DEPENDS ${skel})
  add_library(bpf_${name} INTERFACE)
  add_dependencies(bpf_${name} bpf_${name}_gen)
  target_include_directories(bpf_${name} INTERFACE ${outdir})
  set_property(GLOBAL APPEND PROPERTY BPFPLUG_BPF_OBJECTS ${obj})
endfunction()

# bpfplug_add_plugin(NAME): a plugin of the built-in catalogue, from NAME.bpf.c in the current
# directory. This one line is the whole registration: the catalogue source that embeds every
# plugin's object is generated from the list it builds (loader/src/builtin_catalogue.cpp.in).
function(bpfplug_add_plugin name)
  bpfplug_add_bpf_object(${name} ${name}.bpf.c)
  set_property(GLOBAL APPEND PROPERTY BPFPLUG_PLUGINS ${name})
endfunction()

# bpfplug_add_plugin_variant(PLUGIN VARIANT [DEFINES D...]): the plugin PLUGIN (from PLUGIN.bpf.c
# in the current directory, registered with bpfplug_add_plugin) built again with the extra
# defines and BPFPLUG_VARIANT_NAME="VARIANT", so its source can declare
# BPFPLUG_VARIANT(BPFPLUG_VARIANT_NAME, ...) (struct_ops/bpfplug_meta.h). The object and
# skeleton are named PLUGIN__VARIANT (made a C identifier: '-' becomes '_'), e.g.
# dctcp__alpha0.skel.h with dctcp__alpha0_bpf__elf_bytes(); the catalogue embeds it next to
# the default variant.
function(bpfplug_add_plugin_variant plugin variant)
  cmake_parse_arguments(ARG "" "" "DEFINES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "bpfplug_add_plugin_variant(${plugin} ${variant}): unexpected arguments "
                        "'${ARG_UNPARSED_ARGUMENTS}' (only DEFINES D...)")
  endif()
  if(NOT variant MATCHES "^[a-z0-9-][a-z0-9_-]*$" OR variant STREQUAL "default")
    message(FATAL_ERROR "bpfplug_add_plugin_variant(${plugin} ${variant}): a variant name uses "
                        "a-z 0-9 _ -, does not start with '_', and is not 'default'")
  endif()
  string(MAKE_C_IDENTIFIER "${plugin}__${variant}" name)
  bpfplug_add_bpf_object(${name} ${plugin}.bpf.c
                         DEFINES BPFPLUG_VARIANT_NAME="${variant}" ${ARG_DEFINES})
  set_property(GLOBAL APPEND PROPERTY BPFPLUG_PLUGINS ${name})
endfunction()
