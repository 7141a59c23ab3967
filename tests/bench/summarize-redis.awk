# Shared limits through Redis: gateway-redis (every request reserved and settled in Redis)
# against gateway-keyed (the same virtual key and limits, in process), per load mode.
# Medians over runs of achieved requests per second and latency, and the throughput ratio.
# Input: bench-results.jsonl as run-bench.sh writes it.

function field(line, name,    re, value) {
    re = "\"" name "\":(\"[^\"]*\"|[-0-9.e+]+)"
    if (!match(line, re)) return ""
    value = substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
    gsub(/"/, "", value)
    return value
}

function median(list, n,    i, j, tmp) {
    for (i = 2; i <= n; i++) {
        tmp = list[i]
        for (j = i - 1; j >= 1 && list[j] > tmp; j--) list[j + 1] = list[j]
        list[j + 1] = tmp
    }
    return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
}

{
    target = field($0, "target")
    if (target != "gateway-keyed" && target != "gateway-redis") next
    if (field($0, "error") != "") next
    mode = field($0, "mode") == "open" ? field($0, "target_rate") " req/s offered" : "closed loop"
    if (!(mode in seen)) { seen[mode] = 1; order[++modes] = mode }
    key = mode SUBSEP target
    n[key]++
    rps[key, n[key]] = field($0, "achieved_rps")
    p50[key, n[key]] = field($0, "p50_us")
    p99[key, n[key]] = field($0, "p99_us")
    bad[key] += field($0, "errors") + field($0, "non_2xx")
}

END {
    print "| Mode | Target | req/s (median) | p50 µs | p99 µs | errors + non-2xx |"
    print "|---|---|---|---|---|---|"
    for (m = 1; m <= modes; m++) {
        mode = order[m]
        for (t = 1; t <= 2; t++) {
            target = t == 1 ? "gateway-keyed" : "gateway-redis"
            key = mode SUBSEP target
            if (!n[key]) continue
            delete a; delete b; delete c
            for (i = 1; i <= n[key]; i++) { a[i] = rps[key, i]; b[i] = p50[key, i]; c[i] = p99[key, i] }
            med[key] = median(a, n[key])
            printf "| %s | %s | %.0f | %.0f | %.0f | %d |\n", mode, target, med[key], median(b, n[key]), median(c, n[key]), bad[key]
        }
    }
    print ""
    for (m = 1; m <= modes; m++) {
        mode = order[m]
        off = mode SUBSEP "gateway-keyed"
        on = mode SUBSEP "gateway-redis"
        if (n[off] && n[on] && med[off] > 0)
            printf "Redis on vs off, %s: %.1f%% of the in-process throughput\n", mode, 100 * med[on] / med[off]
    }
}
