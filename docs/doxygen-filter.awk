# SPDX-License-Identifier: MIT
# Doxygen's input filter for the public headers (FILTER_PATTERNS in
# Doxyfile.in). It makes doxygen read the headers' conventions, one line in,
# one line out, so that doxygen's line numbers stay the headers' (but in the
# file comment, whose paragraphs may change places: 3 below).
#
# 1. A comment documents the run of declarations right under it, up to the
#    next blank line, comment or #if ("weft_queue_put" and "weft_queue_put_nowait"
#    share one): such a run of two or more becomes a member group, whose
#    documentation doxygen gives to each member (DISTRIBUTE_GROUP_DOC).
# 2. A plain comment after a declaration on the same line ("size_t
#    stack_size; /* bytes */", a field or an enum value) documents that
#    member: it becomes "/**<". The headers keep the plain form there, so
#    that no line of code is edited for the documentation.
function indent(s) { match(s, /^[ \t]*/); return RLENGTH }
# 3. A layer's page opens with its header's first paragraph (what the layer
#    holds, the Python it mirrors) and then its "Defaults for this layer"
#    paragraph, wherever the header's comment has it: that paragraph moves
#    up to second place, the same lines in another order.
function defaults_first(    b, j0, k, ds, de, fs, m, order) {
    b = line[1] ~ /SPDX-License-Identifier/ ? 2 : 1 # the licence's tag
    if (line[b] !~ /^\/\*\*/)
        return
    for (j0 = b; j0 <= n && line[j0] !~ /\*\//; j0++)
        ;
    if (line[j0] !~ /\\file/)
        return
    ds = 0
    for (k = b + 1; k < j0; k++)
        if (line[k] ~ /^ \* Defaults for this layer/) { ds = k; break }
    fs = 0
    for (k = b + 1; k < ds; k++)
        if (line[k] ~ /^ \*[ \t]*$/) { fs = k; break }
    if (ds == 0 || fs == 0 || fs + 1 == ds)
        return
    for (de = ds; de + 1 < j0 && line[de + 1] !~ /^ \*[ \t]*$/; de++)
        ;
    m = b - 1
    for (k = b; k <= fs; k++) order[++m] = line[k]
    for (k = ds; k <= de; k++) order[++m] = line[k]
    order[++m] = line[ds - 1]
    for (k = fs + 1; k <= ds - 2; k++) order[++m] = line[k]
    for (k = b; k <= m; k++) line[k] = order[k]
}
{ line[NR] = $0 }
END {
    n = NR
    defaults_first()
    for (i = 1; i <= n; i++)
        if (line[i] ~ /^[ \t]+[^\/* \t][^\/]*[;,][ \t]*\/\*[^*<]/)
            sub(/\/\*/, "/**<", line[i])
    for (i = 1; i <= n; i++) {
        if (line[i] !~ /^[ \t]*\/\*\*[^<]/ && line[i] !~ /^[ \t]*\/\*\*$/)
            continue
        j = i
        while (j <= n && line[j] !~ /\*\//)
            j++
        if (line[i] ~ /\\file/ || line[j] ~ /\\file/) { i = j; continue }
        ind = indent(line[i])
        count = 0
        depth = 0
        last = j
        for (k = j + 1; k <= n; k++) {
            if (line[k] ~ /^[ \t]*$/ || line[k] ~ /^[ \t]*\/\*/ ||
                line[k] ~ /^[ \t]*#[ \t]*(if|else|elif|endif)/ ||
                (depth == 0 && line[k] ~ /^[ \t]*}/) || indent(line[k]) < ind)
                break
            # A declaration or #define starts at the comment's indentation,
            # outside the braces of one before it.
            if (depth == 0 && indent(line[k]) == ind &&
                line[k] !~ /^[ \t]*{/ &&
                (line[k] !~ /^[ \t]*#/ || line[k] ~ /^[ \t]*#[ \t]*define/))
                count++
            t = line[k]
            depth += gsub(/{/, "{", t) - gsub(/}/, "}", t)
            last = k
        }
        if (count >= 2) {
            # The group closes at the start of the line after the run, never
            # inside it (a macro's line would take it as its text).
            open_[i] = "/**@{*/"
            if (last < n)
                close_[last + 1] = "/**@}*/"
            else
                line[last] = line[last] "\n/**@}*/"
        }
        i = j
    }
    for (i = 1; i <= n; i++)
        print close_[i] open_[i] line[i]
}
