# Turns build-bench/bench-results.jsonl into the markdown summary of docs/BENCHMARKS.md.
# Every comparison is made inside one run first (added latency = proxy minus direct, and
# gateway/nginx ratios), then the median over runs is reported: on a noisy machine the runs
# drift, but the targets inside one run see the same noise.
# Targets: direct, nginx, gateway (request log on) and gateway-nolog (request log off); the
# last one only feeds the "request log on vs off" table.
# Plain POSIX awk (Debian's default mawk): no asort, no JSON library; the loadgen's JSON is flat.
#
# usage: awk -v rates="1000 5000" -f summarize.awk bench-results.jsonl

function field(line, key,    m) {
    if (!match(line, "\"" key "\":[^,}]*"))
        return ""
    m = substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
    gsub(/"/, "", m)
    return m
}

# Median of the space-separated numbers in `list`; "" when empty.
function median(list,    v, n, i, j, t) {
    n = split(list, v, " ")
    if (n == 0)
        return ""
    for (i = 2; i <= n; i++) {
        t = v[i] + 0
        for (j = i - 1; j >= 1 && v[j] + 0 > t; j--)
            v[j + 1] = v[j]
        v[j + 1] = t
    }
    if (n % 2)
        return v[(n + 1) / 2] + 0
    return (v[n / 2] + v[n / 2 + 1]) / 2
}

function add(key, value) {
    if (value == "")
        return
    values[key] = (key in values) ? values[key] " " value : value
}

function fmt(x, decimals) {
    if (x == "")
        return "n/a"
    return sprintf("%." decimals "f", x)
}

function target_name(t) {
    return t == 1 ? "direct" : (t == 2 ? "nginx" : (t == 3 ? "gateway" : "gateway-nolog"))
}

function verdict(x, limit, atMost) {
    if (x == "")
        return "pending"
    if (atMost)
        return (x <= limit) ? "PASS" : "FAIL"
    return (x >= limit) ? "PASS" : "FAIL"
}

{
    run = field($0, "run")
    target = field($0, "target")
    if (field($0, "error") != "") {
        failed[target]++
        next
    }
    mode = field($0, "mode") == "open" ? field($0, "target_rate") : "closed"
    seen[run] = 1
    have[target] = 1
    p50[run, mode, target] = field($0, "p50_us")
    p99[run, mode, target] = field($0, "p99_us")
    rps[run, mode, target] = field($0, "achieved_rps")
    errors[target] += field($0, "errors")
    non2xx[target] += field($0, "non_2xx")
}

END {
    nrates = split(rates, rate, " ")
    for (r in seen) {
        for (i = 1; i <= nrates; i++) {
            m = rate[i]
            if (!((r, m, "direct") in p50))
                continue
            add(m SUBSEP "direct" SUBSEP "p50", p50[r, m, "direct"])
            add(m SUBSEP "direct" SUBSEP "p99", p99[r, m, "direct"])
            for (t = 1; t <= 2; t++) {
                tg = t == 1 ? "nginx" : "gateway"
                if (!((r, m, tg) in p50))
                    continue
                add(m SUBSEP tg SUBSEP "p50", p50[r, m, tg])
                add(m SUBSEP tg SUBSEP "p99", p99[r, m, tg])
                add(m SUBSEP tg SUBSEP "added50", p50[r, m, tg] - p50[r, m, "direct"])
                add(m SUBSEP tg SUBSEP "added99", p99[r, m, tg] - p99[r, m, "direct"])
            }
            if (((r, m, "gateway") in p50) && ((r, m, "nginx") in p50)) {
                n50 = p50[r, m, "nginx"] - p50[r, m, "direct"]
                n99 = p99[r, m, "nginx"] - p99[r, m, "direct"]
                if (n50 > 0)
                    add(m SUBSEP "ratio50", (p50[r, m, "gateway"] - p50[r, m, "direct"]) / n50)
                if (n99 > 0)
                    add(m SUBSEP "ratio99", (p99[r, m, "gateway"] - p99[r, m, "direct"]) / n99)
                if (n50 > 0 && ((r, m, "gateway-nolog") in p50))
                    add(m SUBSEP "nologratio50", (p50[r, m, "gateway-nolog"] - p50[r, m, "direct"]) / n50)
                if (n99 > 0 && ((r, m, "gateway-nolog") in p99))
                    add(m SUBSEP "nologratio99", (p99[r, m, "gateway-nolog"] - p99[r, m, "direct"]) / n99)
            }
        }
        # Request log on (gateway) vs off (gateway-nolog), latency at each fixed rate.
        for (i = 1; i <= nrates; i++) {
            m = rate[i]
            if (!((r, m, "gateway-nolog") in p50))
                continue
            add(m SUBSEP "gateway-nolog" SUBSEP "p50", p50[r, m, "gateway-nolog"])
            add(m SUBSEP "gateway-nolog" SUBSEP "p99", p99[r, m, "gateway-nolog"])
            if ((r, m, "gateway") in p50) {
                add(m SUBSEP "logdiff50", p50[r, m, "gateway"] - p50[r, m, "gateway-nolog"])
                add(m SUBSEP "logdiff99", p99[r, m, "gateway"] - p99[r, m, "gateway-nolog"])
            }
        }
        for (t = 1; t <= 4; t++) {
            tg = target_name(t)
            if ((r, "closed", tg) in rps)
                add("closed" SUBSEP tg, rps[r, "closed", tg])
        }
        if (((r, "closed", "gateway") in rps) && ((r, "closed", "nginx") in rps) && rps[r, "closed", "nginx"] > 0)
            add("closed" SUBSEP "ratio", rps[r, "closed", "gateway"] / rps[r, "closed", "nginx"])
        if (((r, "closed", "gateway-nolog") in rps) && ((r, "closed", "nginx") in rps) && rps[r, "closed", "nginx"] > 0)
            add("closed" SUBSEP "nologratio", rps[r, "closed", "gateway-nolog"] / rps[r, "closed", "nginx"])
        if (((r, "closed", "gateway") in rps) && ((r, "closed", "gateway-nolog") in rps) && rps[r, "closed", "gateway-nolog"] > 0)
            add("closed" SUBSEP "logratio", rps[r, "closed", "gateway"] / rps[r, "closed", "gateway-nolog"])
    }

    nruns = 0
    for (r in seen)
        nruns++
    print "Medians over " nruns " runs. Latency in microseconds, from the scheduled send time."
    print "Added = that proxy's latency minus direct's, in the same run."
    print ""
    print "| rate (req/s) | pct | direct | nginx | gateway | nginx added | gateway added | gateway/nginx added |"
    print "| ---: | :-: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= nrates; i++) {
        m = rate[i]
        for (q = 1; q <= 2; q++) {
            pc = q == 1 ? "50" : "99"
            printf "| %s | p%s | %s | %s | %s | %s | %s | %s |\n", m, pc,
                fmt(median(values[m, "direct", "p" pc]), 1),
                fmt(median(values[m, "nginx", "p" pc]), 1),
                fmt(median(values[m, "gateway", "p" pc]), 1),
                fmt(median(values[m, "nginx", "added" pc]), 1),
                fmt(median(values[m, "gateway", "added" pc]), 1),
                fmt(median(values[m, "ratio" pc]), 2)
        }
    }
    print ""
    print "| closed loop | direct | nginx | gateway | gateway/nginx |"
    print "| --- | ---: | ---: | ---: | ---: |"
    printf "| max req/s | %s | %s | %s | %s |\n",
        fmt(median(values["closed", "direct"]), 0), fmt(median(values["closed", "nginx"]), 0),
        fmt(median(values["closed", "gateway"]), 0), fmt(median(values["closed", "ratio"]), 2)

    print ""
    print "Request log on vs off: gateway (request_log.enabled: true) and gateway-nolog"
    print "(request_log.enabled: false), same config, same core. on - off and on/off are per-run values, then the median."
    print ""
    print "| rate (req/s) | pct | log on | log off | on - off |"
    print "| ---: | :-: | ---: | ---: | ---: |"
    for (i = 1; i <= nrates; i++) {
        m = rate[i]
        for (q = 1; q <= 2; q++) {
            pc = q == 1 ? "50" : "99"
            printf "| %s | p%s | %s | %s | %s |\n", m, pc,
                fmt(median(values[m, "gateway", "p" pc]), 1),
                fmt(median(values[m, "gateway-nolog", "p" pc]), 1),
                fmt(median(values[m, "logdiff" pc]), 1)
        }
    }
    print ""
    print "| closed loop | log on | log off | on/off |"
    print "| --- | ---: | ---: | ---: |"
    printf "| max req/s | %s | %s | %s |\n",
        fmt(median(values["closed", "gateway"]), 0), fmt(median(values["closed", "gateway-nolog"]), 0),
        fmt(median(values["closed", "logratio"]), 2)

    top = rate[nrates]
    r50 = median(values[top, "ratio50"])
    r99 = median(values[top, "ratio99"])
    rmax = median(values["closed", "ratio"])
    rlog = median(values["closed", "logratio"])
    print ""
    print "Targets:"
    printf "- added p50 at %s req/s, gateway/nginx = %s (target <= 1.5): %s\n", top, fmt(r50, 2), verdict(r50, 1.5, 1)
    printf "- added p99 at %s req/s, gateway/nginx = %s (target <= 1.5): %s\n", top, fmt(r99, 2), verdict(r99, 1.5, 1)
    printf "- closed-loop max, gateway/nginx = %s (target >= 0.5): %s\n", fmt(rmax, 2), verdict(rmax, 0.5, 0)
    printf "- closed-loop max, request log on/off = %s (target >= 0.9): %s\n", fmt(rlog, 2), verdict(rlog, 0.9, 0)
    # The data plane alone (the walking skeleton's targets predate the request log).
    n50 = median(values[top, "nologratio50"])
    n99 = median(values[top, "nologratio99"])
    nmax = median(values["closed", "nologratio"])
    printf "- data plane alone (gateway-nolog): added p50 at %s req/s / nginx = %s (<= 1.5): %s; added p99 = %s (<= 1.5): %s; closed-loop max / nginx = %s (>= 0.5): %s\n",
        top, fmt(n50, 2), verdict(n50, 1.5, 1), fmt(n99, 2), verdict(n99, 1.5, 1), fmt(nmax, 2), verdict(nmax, 0.5, 0)

    for (t = 1; t <= 4; t++) {
        tg = target_name(t)
        if (errors[tg] > 0 || non2xx[tg] > 0 || failed[tg] > 0)
            printf "\nWARNING: %s had %d errors, %d non-2xx responses and %d failed measurements; its numbers are suspect.\n",
                tg, errors[tg], non2xx[tg], failed[tg]
    }
}
