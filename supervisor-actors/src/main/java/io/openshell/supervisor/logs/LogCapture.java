package io.openshell.supervisor.logs;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import io.openshell.protocol.v1.SandboxLogLine;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.stream.BoundedSourceQueue;

/**
 * A logback appender that numbers each of the supervisor's log lines and offers it to the shipper's
 * bounded queue. It never blocks a logging thread: when the queue is full (the gateway is unreachable
 * for long) the line is dropped, and the gap in the numbers tells the gateway how many.
 */
final class LogCapture extends UnsynchronizedAppenderBase<ILoggingEvent> {
  private final BoundedSourceQueue<SandboxLogLine> queue;
  private final String sandboxId;
  private final String bootId;
  private final int maxMessageBytes;
  private final AtomicLong seq = new AtomicLong();

  LogCapture(BoundedSourceQueue<SandboxLogLine> queue, String sandboxId, String bootId, int maxMessageBytes) {
    this.queue = queue;
    this.sandboxId = sandboxId;
    this.bootId = bootId;
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  protected void append(ILoggingEvent event) {
    // Numbering and offering must happen in the same order, or the gateway would see reordered seqs:
    // logging threads race here, so the two steps are one critical section per line (a few microseconds).
    synchronized (seq) {
      try {
        queue.offer(LogLines.from(event, sandboxId, bootId, seq.incrementAndGet(), maxMessageBytes));
      } catch (IllegalStateException shippingStopped) {
        // the supervisor is shutting down
      }
    }
  }
}
