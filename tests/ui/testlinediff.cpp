#include "policyeditor/linediff.h"

#include <QTest>

class TestLineDiff final : public QObject {
    Q_OBJECT

private slots:
    void identicalTextsGiveNothing() const
    {
        QVERIFY(Ui::unifiedLineDiff(QStringLiteral("a\nb\n"), QStringLiteral("a\nb\n"), QStringLiteral("x"), QStringLiteral("y")).isEmpty());
    }

    void changedLineIsOneHunk() const
    {
        const QString from = QStringLiteral("1\n2\n3\n4\n5\n6\n7\n8\n9\n");
        const QString to = QStringLiteral("1\n2\n3\n4\nfive\n6\n7\n8\n9\n");
        const QString diff = Ui::unifiedLineDiff(from, to, QStringLiteral("active"), QStringLiteral("editor"));
        QCOMPARE(diff, QStringLiteral("--- active\n+++ editor\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"));
    }

    void farApartChangesAreTwoHunks() const
    {
        QStringList lines;
        for (int i = 0; i < 30; ++i) {
            lines << QString::number(i);
        }
        QStringList changed = lines;
        changed[2] = QStringLiteral("x");
        changed[25] = QStringLiteral("y");
        const QString diff = Ui::unifiedLineDiff(lines.join(u'\n'), changed.join(u'\n'), QStringLiteral("a"), QStringLiteral("b"));
        QCOMPARE(diff.count(QStringLiteral("@@ -")), 2);
        QVERIFY(diff.contains(QStringLiteral("-25\n+y\n")));
    }
};

QTEST_APPLESS_MAIN(TestLineDiff)
#include "testlinediff.moc"
