package io.openshell.gateway.logs;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code openshell.gateway.logs}: the per-sandbox log buffer's bounds. Upstream keeps 2000 lines and 50
 * platform events per sandbox and bounds nothing else; here the bytes are bounded too, so a sandbox that
 * pushes 2000 huge lines cannot hold gigabytes of gateway heap.
 */
public record LogSettings(int maxLinesPerSandbox, long maxBytesPerSandbox, int maxMessageBytes,
    int maxEventsPerSandbox, Duration followWait, int maxBatchLines) {

  public LogSettings {
    if (maxLinesPerSandbox < 1) throw new IllegalArgumentException("logs.max-lines-per-sandbox must be at least 1");
    if (maxBytesPerSandbox < maxMessageBytes) {
      throw new IllegalArgumentException("logs.max-bytes-per-sandbox must be at least logs.max-message-bytes");
    }
  }

  public static LogSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("logs");
    return new LogSettings(c.getInt("max-lines-per-sandbox"), c.getMemorySize("max-bytes-per-sandbox").toBytes(),
        (int) c.getMemorySize("max-message-bytes").toBytes(), c.getInt("max-events-per-sandbox"),
        c.getDuration("follow-wait"), c.getInt("max-batch-lines"));
  }
}
