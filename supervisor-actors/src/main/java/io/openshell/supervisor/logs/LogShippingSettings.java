package io.openshell.supervisor.logs;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code openshell.supervisor.logs}: how the supervisor's own log lines travel to the gateway. */
public record LogShippingSettings(boolean enabled, int queueSize, long maxBatchBytes, Duration flushInterval,
    int maxMessageBytes, Duration retryInitial, Duration retryMax) {

  public LogShippingSettings {
    if (queueSize < 1) throw new IllegalArgumentException("logs.queue-size must be at least 1");
    if (maxBatchBytes < maxMessageBytes) throw new IllegalArgumentException("logs.max-batch-bytes must be at least logs.max-message-bytes");
    if (retryMax.compareTo(retryInitial) < 0) throw new IllegalArgumentException("logs.retry needs initial <= max");
  }

  public static LogShippingSettings fromConfig(Config root) {
    Config c = root.getConfig("openshell.supervisor.logs");
    return new LogShippingSettings(c.getBoolean("push"), c.getInt("queue-size"), c.getMemorySize("max-batch-bytes").toBytes(),
        c.getDuration("flush-interval"), (int) c.getMemorySize("max-message-bytes").toBytes(),
        c.getDuration("retry.initial"), c.getDuration("retry.max"));
  }
}
