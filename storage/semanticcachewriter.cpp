#include "semanticcachewriter.h"

#include "database.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <cstring>

namespace Storage {

namespace {

using Gateway::Cache::SemanticRecord;

QByteArray vectorBlob(const std::vector<float> &vector)
{
    // Native float layout: the file is only read back by the machine that wrote it.
    return QByteArray(reinterpret_cast<const char *>(vector.data()), static_cast<qsizetype>(vector.size() * sizeof(float)));
}

std::vector<float> blobVector(const QByteArray &blob)
{
    std::vector<float> vector(static_cast<std::size_t>(blob.size()) / sizeof(float));
    std::memcpy(vector.data(), blob.constData(), vector.size() * sizeof(float));
    return vector;
}

qint64 systemNow()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace

Gateway::Expected<std::vector<SemanticRecord>, QString> SemanticCacheWriter::load(const QString &databasePath, qint64 nowMs)
{
    auto db = Database::open(databasePath);
    if (!db) {
        return Gateway::Unexpected {db.error()};
    }
    QSqlQuery query {db.value()->connection()};
    query.prepare(QStringLiteral("SELECT route, partition, embedding, stream, content_type, body, tokens_in, tokens_out,"
                                 " cost_nanos, stored_at_ms, expires_at_ms FROM semantic_cache"
                                 " WHERE expires_at_ms > ? ORDER BY id"));
    query.addBindValue(nowMs);
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot read the semantic cache: %1").arg(query.lastError().text())};
    }
    std::vector<SemanticRecord> records;
    while (query.next()) {
        SemanticRecord record;
        record.route = query.value(0).toByteArray();
        record.partition = query.value(1).toByteArray();
        record.embedding = blobVector(query.value(2).toByteArray());
        record.stream = query.value(3).toInt() != 0;
        record.contentType = query.value(4).toByteArray();
        record.body = query.value(5).toByteArray();
        record.tokensIn = query.value(6).toLongLong();
        record.tokensOut = query.value(7).toLongLong();
        record.costNanos = query.value(8).toLongLong();
        record.storedAtMs = query.value(9).toLongLong();
        record.expiresAtMs = query.value(10).toLongLong();
        records.push_back(std::move(record));
    }
    return records;
}

Gateway::Expected<std::unique_ptr<SemanticCacheWriter>, QString> SemanticCacheWriter::start(Options options)
{
    if (!options.nowMs) {
        options.nowMs = systemNow;
    }
    std::unique_ptr<SemanticCacheWriter> writer {new SemanticCacheWriter(std::move(options))};
    std::promise<QString> opened;
    std::future<QString> result = opened.get_future();
    writer->m_thread = std::thread([raw = writer.get(), &opened] { raw->run(&opened); });
    const QString error = result.get();
    if (!error.isEmpty()) {
        writer->m_thread.join();
        writer->m_thread = std::thread();
        return Gateway::Unexpected {error};
    }
    return writer;
}

SemanticCacheWriter::SemanticCacheWriter(Options options)
    : m_options {std::move(options)}
{
}

SemanticCacheWriter::~SemanticCacheWriter()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void SemanticCacheWriter::stored(SemanticRecord &&record)
{
    {
        const std::lock_guard lock {m_mutex};
        if (m_queue.size() >= static_cast<std::size_t>(m_options.capacity)) {
            m_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        m_queue.push_back(std::move(record));
        ++m_enqueued;
    }
    m_wake.notify_one();
}

void SemanticCacheWriter::flush()
{
    std::unique_lock lock {m_mutex};
    const quint64 target = m_enqueued;
    m_progress.wait(lock, [&] { return m_done >= target || !m_thread.joinable(); });
}

void SemanticCacheWriter::run(std::promise<QString> *opened)
{
    auto db = Database::open(m_options.databasePath);
    if (!db) {
        opened->set_value(db.error());
        return;
    }
    opened->set_value(QString());
    Database &database = *db.value();
    QSqlQuery insert {database.connection()};
    insert.prepare(QStringLiteral("INSERT INTO semantic_cache (route, partition, embedding, stream, content_type, body,"
                                  " tokens_in, tokens_out, cost_nanos, stored_at_ms, expires_at_ms)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    QSqlQuery expire {database.connection()};
    expire.prepare(QStringLiteral("DELETE FROM semantic_cache WHERE expires_at_ms <= ?"));
    for (;;) {
        std::deque<SemanticRecord> batch;
        {
            std::unique_lock lock {m_mutex};
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty() && m_stopping) {
                break;
            }
            batch.swap(m_queue);
        }
        const bool began = database.beginWrite().hasValue();
        for (const SemanticRecord &record : batch) {
            insert.addBindValue(QString::fromUtf8(record.route));
            insert.addBindValue(record.partition);
            insert.addBindValue(vectorBlob(record.embedding));
            insert.addBindValue(record.stream ? 1 : 0);
            insert.addBindValue(QString::fromUtf8(record.contentType));
            insert.addBindValue(record.body);
            insert.addBindValue(record.tokensIn);
            insert.addBindValue(record.tokensOut);
            insert.addBindValue(record.costNanos);
            insert.addBindValue(record.storedAtMs);
            insert.addBindValue(record.expiresAtMs);
            if (!insert.exec()) {
                qWarning("semantic cache: cannot store an entry: %s", qPrintable(insert.lastError().text()));
            }
        }
        expire.addBindValue(m_options.nowMs());
        expire.exec();
        const bool committed = began && database.commit().hasValue();
        if (committed) {
            m_committed.fetch_add(batch.size(), std::memory_order_relaxed);
        }
        {
            const std::lock_guard lock {m_mutex};
            m_done += batch.size();
        }
        m_progress.notify_all();
    }
    {
        const std::lock_guard lock {m_mutex};
        m_done = m_enqueued;
    }
    m_progress.notify_all();
}

} // namespace Storage
