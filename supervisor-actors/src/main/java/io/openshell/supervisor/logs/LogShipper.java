package io.openshell.supervisor.logs;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.PushSandboxLogsRequest;
import io.openshell.protocol.v1.SandboxLogLine;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.slf4j.LoggerFactory;

/**
 * Ships the supervisor's own log lines to the gateway with PushSandboxLogs, batched (by bytes, or
 * every flush interval), one batch in flight at a time, over the gateway session's connection.
 *
 * <p>A batch stays here until the gateway answered its push: when the session drops it is sent again
 * as soon as the next session is live ({@link SessionLive}), or after a retry delay if the gateway
 * refused it. The gateway stores a re-sent batch once (boot id + seq), so a reconnect neither loses
 * nor duplicates lines. Lines logged while the queue is full are dropped and reported by the gateway
 * as a gap; nothing here grows without bound.
 */
public final class LogShipper {

  public sealed interface Command {}

  /** The gateway session is live on this client: push on it. */
  public record SessionLive(OpenShellClient client) implements Command {}

  /** The session ended: hold batches until the next one. */
  public enum SessionLost implements Command { INSTANCE }

  private record StreamStarted(ActorRef<Ack> ackTo) implements Command {}

  private record BatchReady(List<SandboxLogLine> lines, ActorRef<Ack> ackTo) implements Command {}

  private enum StreamEnded implements Command { INSTANCE }

  private record Pushed(long attempt, Throwable failure) implements Command {}

  private enum RetryTick implements Command { INSTANCE }

  enum Ack { INSTANCE }

  /**
   * Starts the shipper and attaches its capture to the root logger (detached when the shipper stops).
   * Returns the shipper, to be told about sessions.
   */
  public static Behavior<Command> create(LogShippingSettings settings, String sandboxId, String bootId) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      Materializer materializer = Materializer.createMaterializer(context);
      var queued = Source.<SandboxLogLine>queue(settings.queueSize()).preMaterialize(materializer);
      queued.second()
          .groupedWeightedWithin(settings.maxBatchBytes(), line -> (long) line.getSerializedSize(), settings.flushInterval())
          .runWith(ActorSink.<List<SandboxLogLine>, Command, Ack>actorRefWithBackpressure(context.getSelf(),
              (ackTo, lines) -> new BatchReady(lines, ackTo), StreamStarted::new, Ack.INSTANCE,
              StreamEnded.INSTANCE, failure -> StreamEnded.INSTANCE), materializer);
      LogCapture capture = attach(queued.first(), sandboxId, bootId, settings);
      return new LogShipper(settings, sandboxId, context, timers, capture).idle();
    }));
  }

  private static LogCapture attach(BoundedSourceQueue<SandboxLogLine> queue, String sandboxId, String bootId,
      LogShippingSettings settings) {
    LogCapture capture = new LogCapture(queue, sandboxId, bootId, settings.maxMessageBytes());
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext loggers) {
      capture.setContext(loggers);
      capture.setName("push-sandbox-logs-" + bootId);
      capture.start();
      loggers.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(capture);
    }
    return capture;
  }

  private final LogShippingSettings settings;
  private final String sandboxId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final LogCapture capture;
  private OpenShellClient client;
  private Duration retryDelay;
  private long attempts;

  private LogShipper(LogShippingSettings settings, String sandboxId, ActorContext<Command> context,
      TimerScheduler<Command> timers, LogCapture capture) {
    this.settings = settings;
    this.sandboxId = sandboxId;
    this.context = context;
    this.timers = timers;
    this.capture = capture;
    this.retryDelay = settings.retryInitial();
  }

  /** No batch waiting (the stream is asked for the next one once acked). */
  private Behavior<Command> idle() {
    return Behaviors.receive(Command.class)
        .onMessage(StreamStarted.class, started -> {
          started.ackTo().tell(Ack.INSTANCE);
          return Behaviors.same();
        })
        .onMessage(BatchReady.class, batch -> holding(batch, false))
        .onMessage(SessionLive.class, live -> {
          client = live.client();
          return Behaviors.same();
        })
        .onMessageEquals(SessionLost.INSTANCE, () -> {
          client = null;
          return Behaviors.same();
        })
        .onSignal(PostStop.class, stop -> detach())
        .onAnyMessage(other -> Behaviors.same())
        .build();
  }

  /** One batch waiting for the gateway's answer (or for a session to send it on). */
  private Behavior<Command> holding(BatchReady batch, boolean inFlight) {
    if (!inFlight && client != null) return send(batch);
    return Behaviors.receive(Command.class)
        .onMessage(SessionLive.class, live -> {
          client = live.client();
          timers.cancel(RetryTick.INSTANCE);
          return inFlight ? Behaviors.same() : send(batch);
        })
        .onMessageEquals(SessionLost.INSTANCE, () -> {
          client = null;
          return Behaviors.same();
        })
        .onMessage(Pushed.class, pushed -> pushed.attempt() != attempts ? Behaviors.same() : onPushed(batch, pushed))
        .onSignal(PostStop.class, stop -> detach())
        .onAnyMessage(other -> Behaviors.same())
        .build();
  }

  private Behavior<Command> send(BatchReady batch) {
    long attempt = ++attempts;
    PushSandboxLogsRequest request = PushSandboxLogsRequest.newBuilder().setSandboxId(sandboxId).addAllLogs(batch.lines()).build();
    context.pipeToSelf(client.pushSandboxLogs(Source.single(request)), (ok, failure) -> new Pushed(attempt, failure));
    return holding(batch, true);
  }

  private Behavior<Command> onPushed(BatchReady batch, Pushed pushed) {
    if (pushed.failure() == null) {
      retryDelay = settings.retryInitial();
      batch.ackTo().tell(Ack.INSTANCE);
      return idle();
    }
    // Not logged above DEBUG: a WARN here would itself be shipped, once per failed attempt.
    context.getLog().debug("log push failed, retrying in {} ms: {}", retryDelay.toMillis(), pushed.failure().toString());
    timers.startSingleTimer(RetryTick.INSTANCE, retryDelay);
    Duration doubled = retryDelay.multipliedBy(2);
    retryDelay = doubled.compareTo(settings.retryMax()) > 0 ? settings.retryMax() : doubled;
    return waitingToRetry(batch);
  }

  private Behavior<Command> waitingToRetry(BatchReady batch) {
    return Behaviors.receive(Command.class)
        .onMessage(SessionLive.class, live -> {
          client = live.client();
          timers.cancel(RetryTick.INSTANCE);
          return send(batch);
        })
        .onMessageEquals(SessionLost.INSTANCE, () -> {
          client = null;
          return Behaviors.same();
        })
        .onMessageEquals(RetryTick.INSTANCE, () -> holding(batch, false))
        .onSignal(PostStop.class, stop -> detach())
        .onAnyMessage(other -> Behaviors.same())
        .build();
  }

  private Behavior<Command> detach() {
    if (capture.getContext() instanceof LoggerContext loggers) {
      Logger root = loggers.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      root.detachAppender(capture);
    }
    capture.stop();
    return Behaviors.same();
  }
}
