// Fits TokenEstimator's weights to exact o200k_base counts of the test corpus and prints
// the fit and its error, in-sample and cross-validated over chunks. Not a test: run it after
// changing TextFeatures or the corpus, then copy the weights into tokenestimator.cpp and
// the numbers into docs/ARCHITECTURE.md.
//
//   switchyard-tokenize-calibrate            (reads TOKENIZE_TEST_DATA_DIR/corpus)

#include "tokenize/bpeencoding.h"
#include "tokenize/bundledranks.h"
#include "tokenize/textfeatures.h"
#include "tokenize/tokenestimator.h"

#include <QDir>
#include <QFile>

#include <cmath>
#include <cstdio>
#include <vector>

using namespace Gateway::Tokenize;

namespace {

constexpr int kF = TextFeatures::Count;
constexpr int kLinesPerSample = 4;

constexpr int kFolds = 5;

struct Sample {
    int file;
    int fold; // chunk index modulo kFolds: every fold holds some of every file
    TextFeatures features;
    double tokens;
};

// Weighted least squares (weight 1/tokens, so long and short samples count alike in
// relative terms) with non-negative weights: features whose weight comes out negative are
// dropped and the fit repeated (a simple active-set NNLS).
TokenEstimator::Weights fit(const std::vector<Sample> &samples, int skipFold)
{
    std::array<bool, kF> active;
    active.fill(true);
    for (;;) {
        double a[kF][kF + 1] = {};
        for (const Sample &s : samples) {
            if (s.fold == skipFold || s.tokens <= 0) {
                continue;
            }
            const double w = 1.0 / s.tokens;
            for (int i = 0; i < kF; ++i) {
                for (int j = 0; j < kF; ++j) {
                    a[i][j] += w * s.features.values[i] * s.features.values[j];
                }
                a[i][kF] += w * s.features.values[i] * s.tokens;
            }
        }
        for (int i = 0; i < kF; ++i) {
            if (!active[i]) { // pin the weight to 0: identity row, no coupling
                for (int j = 0; j < kF; ++j) {
                    a[i][j] = 0;
                    a[j][i] = 0;
                }
                a[i][kF] = 0;
                a[i][i] = 1;
            }
            a[i][i] += 1e-9; // features absent from a subset
        }
        // Gauss-Jordan with partial pivoting.
        for (int c = 0; c < kF; ++c) {
            int p = c;
            for (int r = c + 1; r < kF; ++r) {
                if (std::fabs(a[r][c]) > std::fabs(a[p][c])) {
                    p = r;
                }
            }
            std::swap(a[c], a[p]);
            for (int r = 0; r < kF; ++r) {
                if (r != c) {
                    const double f = a[r][c] / a[c][c];
                    for (int k = c; k <= kF; ++k) {
                        a[r][k] -= f * a[c][k];
                    }
                }
            }
        }
        TokenEstimator::Weights w {};
        bool negative = false;
        for (int i = 0; i < kF; ++i) {
            w[i] = active[i] ? a[i][kF] / a[i][i] : 0.0;
            if (w[i] < 0) {
                active[i] = false;
                negative = true;
            }
        }
        if (!negative) {
            return w;
        }
    }
}

} // namespace

int main()
{
    const auto ranks = loadBundledRanks(EncodingId::O200kBase);
    if (!ranks) {
        std::fprintf(stderr, "%s\n", qPrintable(ranks.error()));
        return 1;
    }
    const BpeEncoding o200k(EncodingId::O200kBase, *ranks);
    const QDir dir(QStringLiteral(TOKENIZE_TEST_DATA_DIR "/corpus"));
    const QStringList files = dir.entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name);

    std::vector<Sample> samples;
    std::vector<QByteArray> texts;
    for (int f = 0; f < files.size(); ++f) {
        QFile file(dir.filePath(files[f]));
        if (!file.open(QIODevice::ReadOnly)) {
            return 1;
        }
        const QByteArray text = file.readAll();
        texts.push_back(text);
        const QList<QByteArray> lines = text.split('\n');
        for (qsizetype i = 0; i < lines.size(); i += kLinesPerSample) {
            QByteArray chunk;
            for (qsizetype j = i; j < std::min(lines.size(), i + kLinesPerSample); ++j) {
                chunk += lines[j];
                if (j + 1 < lines.size()) {
                    chunk += '\n';
                }
            }
            const int fold = int(i / kLinesPerSample) % kFolds;
            samples.push_back({f, fold, TextFeatures::of(chunk), double(o200k.count(chunk))});
        }
    }

    const TokenEstimator::Weights weights = fit(samples, -1);
    std::printf("weights (TextFeatures order):");
    for (const double w : weights) {
        std::printf(" %.4f", w);
    }
    // Cross-validation: each chunk is predicted by the fit on the other folds; a file's
    // cross-validated error compares the sum of those predictions with its exact count.
    std::vector<double> heldOut(std::size_t(files.size()), 0.0);
    for (int k = 0; k < kFolds; ++k) {
        const TokenEstimator foldEstimator(fit(samples, k));
        for (const Sample &s : samples) {
            if (s.fold == k) {
                heldOut[std::size_t(s.file)] += foldEstimator.estimate(s.features);
            }
        }
    }
    std::printf("\n%-22s %8s %9s %8s %9s\n", "file", "o200k", "estimate", "error", "cv-error");
    double exactTotal = 0;
    double estimateTotal = 0;
    double maxAbs = 0;
    double maxCv = 0;
    double sumAbs = 0;
    double sumCv = 0;
    for (int f = 0; f < files.size(); ++f) {
        const TextFeatures features = TextFeatures::of(texts[std::size_t(f)]);
        const double exact = double(o200k.count(texts[std::size_t(f)]));
        const double estimate = TokenEstimator(weights).estimate(features);
        const double err = estimate / exact - 1;
        const double cvErr = heldOut[std::size_t(f)] / exact - 1;
        exactTotal += exact;
        estimateTotal += estimate;
        maxAbs = std::max(maxAbs, std::fabs(err));
        maxCv = std::max(maxCv, std::fabs(cvErr));
        sumAbs += std::fabs(err);
        sumCv += std::fabs(cvErr);
        std::printf("%-22s %8.0f %9.1f %+7.1f%% %+8.1f%%\n", qPrintable(files[f]), exact, estimate, 100 * err,
                    100 * cvErr);
    }
    const double n = double(files.size());
    std::printf("total %.0f vs %.1f (%+.1f%%); per file mean |error| %.1f%%, max %.1f%%; "
                "%d-fold cross-validated mean %.1f%%, max %.1f%%\n",
                exactTotal, estimateTotal, 100 * (estimateTotal / exactTotal - 1), 100 * sumAbs / n, 100 * maxAbs,
                kFolds, 100 * sumCv / n, 100 * maxCv);
    return 0;
}
