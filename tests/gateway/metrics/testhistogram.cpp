#include "metrics/histogram.h"

#include <QTest>

using Gateway::Metrics::Histogram;
using Gateway::Metrics::quantileOf;

namespace {

constexpr std::size_t BUCKETS = Histogram::BOUNDS_MS.size() + 1;

} // namespace

class TestHistogram final : public QObject {
    Q_OBJECT

private slots:
    void emptyHistogram();
    void bucketPlacement_data();
    void bucketPlacement();
    void countsAndSum();
    void quantileInterpolatesInsideBucket();
    void quantileAcrossBuckets();
    void valuesBeyondTheLastBound();
    void quantileOfDifference();
    void prometheusOutput();
    void prometheusOutputWithoutLabels();
};

void TestHistogram::emptyHistogram()
{
    const Histogram histogram;
    QCOMPARE(histogram.count(), std::uint64_t {0});
    QCOMPARE(histogram.sumMs(), 0.0);
    QCOMPARE(histogram.quantileMs(0.5), 0.0);
    QCOMPARE(histogram.quantileMs(0.99), 0.0);
    const auto counts = histogram.counts();
    QCOMPARE(counts.count, std::uint64_t {0});
    for (const auto bucket : counts.buckets) {
        QCOMPARE(bucket, std::uint64_t {0});
    }
}

void TestHistogram::bucketPlacement_data()
{
    QTest::addColumn<double>("ms");
    QTest::addColumn<int>("bucket");
    QTest::newRow("zero") << 0.0 << 0;
    QTest::newRow("negative") << -3.0 << 0;
    QTest::newRow("first bound is inclusive") << 0.25 << 0;
    QTest::newRow("just above first bound") << 0.26 << 1;
    QTest::newRow("1 ms") << 1.0 << 2;
    QTest::newRow("1.5 ms") << 1.5 << 3;
    QTest::newRow("100 ms") << 100.0 << 8;
    QTest::newRow("100.001 ms") << 100.001 << 9;
    QTest::newRow("last bound") << 120000.0 << 17;
    QTest::newRow("overflow") << 120000.5 << 18;
    QTest::newRow("far overflow") << 1e9 << 18;
}

void TestHistogram::bucketPlacement()
{
    QFETCH(double, ms);
    QFETCH(int, bucket);
    Histogram histogram;
    histogram.observeMs(ms);
    const auto counts = histogram.counts();
    QCOMPARE(counts.count, std::uint64_t {1});
    for (std::size_t i = 0; i < BUCKETS; ++i) {
        QCOMPARE(counts.buckets[i], std::uint64_t {i == static_cast<std::size_t>(bucket) ? 1u : 0u});
    }
}

void TestHistogram::countsAndSum()
{
    Histogram histogram;
    histogram.observeMs(1.5);
    histogram.observeMs(2.25);
    histogram.observeMs(300);
    histogram.observeMs(-4); // clamped to 0 in the sum
    QCOMPARE(histogram.count(), std::uint64_t {4});
    QCOMPARE(histogram.sumMs(), 303.75);
    const auto counts = histogram.counts();
    QCOMPARE(counts.count, std::uint64_t {4});
    QCOMPARE(counts.buckets[0], std::uint64_t {1});  // -4
    QCOMPARE(counts.buckets[3], std::uint64_t {2});  // 1.5 and 2.25 in (1, 2.5]
    QCOMPARE(counts.buckets[10], std::uint64_t {1}); // 300 in (250, 500]
}

void TestHistogram::quantileInterpolatesInsideBucket()
{
    Histogram histogram;
    for (int i = 0; i < 10; ++i) {
        histogram.observeMs(6); // all in (5, 10]
    }
    QCOMPARE(histogram.quantileMs(0.5), 7.5);
    QCOMPARE(histogram.quantileMs(0.9), 9.5);
    QCOMPARE(histogram.quantileMs(1.0), 10.0);
    QCOMPARE(histogram.quantileMs(0.1), 5.5);
    QCOMPARE(histogram.quantileMs(0.0), 5.0);
}

void TestHistogram::quantileAcrossBuckets()
{
    Histogram histogram;
    for (int i = 0; i < 4; ++i) {
        histogram.observeMs(1);  // (0.5, 1]
        histogram.observeMs(20); // (10, 25]
    }
    QCOMPARE(histogram.quantileMs(0.25), 0.75);
    QCOMPARE(histogram.quantileMs(0.5), 1.0);
    QCOMPARE(histogram.quantileMs(0.75), 17.5);
    QCOMPARE(histogram.quantileMs(1.0), 25.0);

    // The first bucket interpolates from 0.
    Histogram low;
    low.observeMs(0.1);
    low.observeMs(0.2);
    QCOMPARE(low.quantileMs(0.5), 0.125);
}

void TestHistogram::valuesBeyondTheLastBound()
{
    Histogram histogram;
    histogram.observeMs(200000);
    histogram.observeMs(300000);
    QCOMPARE(histogram.counts().buckets[18], std::uint64_t {2});
    // Nothing is known above the last bound: it is reported as the bound.
    QCOMPARE(histogram.quantileMs(0.5), 120000.0);
    QCOMPARE(histogram.quantileMs(0.99), 120000.0);
    QCOMPARE(histogram.sumMs(), 500000.0);

    histogram.observeMs(50);
    histogram.observeMs(50);
    // Ranks 1 and 2 are in (25, 50], ranks 3 and 4 beyond the last bound.
    QCOMPARE(histogram.quantileMs(0.25), 37.5);
    QCOMPARE(histogram.quantileMs(0.75), 120000.0);
}

void TestHistogram::quantileOfDifference()
{
    Histogram::Counts counts;
    counts.buckets[6] = 3; // (10, 25]
    counts.buckets[7] = 1; // (25, 50]
    counts.count = 4;
    QCOMPARE(quantileOf(counts, 0.5), 20.0);
    QCOMPARE(quantileOf(counts, 1.0), 50.0);
    QCOMPARE(quantileOf(Histogram::Counts {}, 0.5), 0.0);
}

void TestHistogram::prometheusOutput()
{
    Histogram histogram;
    histogram.observeMs(0.1);  // le 0.00025
    histogram.observeMs(3);    // le 0.005
    histogram.observeMs(3);    // le 0.005
    histogram.observeMs(1200); // le 2.5
    histogram.observeMs(500000);

    QByteArray out = QByteArrayLiteral("# TYPE switchyard_request_seconds histogram\n");
    histogram.appendPrometheus(out, QByteArrayLiteral("switchyard_request_seconds"),
                               QByteArrayLiteral("route=\"chat\",backend=\"gpu-1\""));

    const QByteArray expected = QByteArrayLiteral(
        "# TYPE switchyard_request_seconds histogram\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.00025\"} 1\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.0005\"} 1\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.001\"} 1\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.0025\"} 1\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.005\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.01\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.025\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.05\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.1\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.25\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"0.5\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"1\"} 3\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"2.5\"} 4\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"5\"} 4\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"10\"} 4\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"30\"} 4\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"60\"} 4\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"120\"} 4\n"
        "switchyard_request_seconds_bucket{route=\"chat\",backend=\"gpu-1\",le=\"+Inf\"} 5\n"
        "switchyard_request_seconds_sum{route=\"chat\",backend=\"gpu-1\"} 501.2061\n"
        "switchyard_request_seconds_count{route=\"chat\",backend=\"gpu-1\"} 5\n");
    QCOMPARE(out, expected);
}

void TestHistogram::prometheusOutputWithoutLabels()
{
    Histogram histogram;
    histogram.observeMs(7);
    QByteArray out;
    histogram.appendPrometheus(out, QByteArrayLiteral("ttft_seconds"), QByteArray());
    const QList<QByteArray> lines = out.split('\n');
    QCOMPARE(lines.size(), 22); // 19 buckets, sum, count, and the empty piece after the last newline
    QCOMPARE(lines[0], QByteArrayLiteral("ttft_seconds_bucket{le=\"0.00025\"} 0"));
    QCOMPARE(lines[5], QByteArrayLiteral("ttft_seconds_bucket{le=\"0.01\"} 1"));
    QCOMPARE(lines[18], QByteArrayLiteral("ttft_seconds_bucket{le=\"+Inf\"} 1"));
    QCOMPARE(lines[19], QByteArrayLiteral("ttft_seconds_sum 0.007"));
    QCOMPARE(lines[20], QByteArrayLiteral("ttft_seconds_count 1"));
    QVERIFY(lines[21].isEmpty());
}

QTEST_APPLESS_MAIN(TestHistogram)
#include "testhistogram.moc"
