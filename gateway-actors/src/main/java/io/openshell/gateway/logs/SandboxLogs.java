package io.openshell.gateway.logs;

import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.protocol.compute.v1.DriverPlatformEvent;
import io.openshell.protocol.v1.PlatformEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The node's sandbox logs: one bounded {@link SandboxLogBuffer} per sandbox, fed by supervisors
 * (PushSandboxLogs), by the gateway's own lines that name a sandbox, and by the compute driver's platform
 * events; read by GetSandboxLogs and followed by WatchSandbox.
 *
 * <p>Followers pull: each {@link Follow} asks for what came after its cursors and is answered at once
 * when there is something, else parked until a line arrives or {@code follow-wait} passes. So a slow
 * watcher holds nothing here but its one parked request, and one that fell behind the bound is told how
 * many entries it missed instead of making the buffer grow.
 *
 * <p>A buffer exists for sandboxes known to exist (a view seen on the sandbox views topic, a checked
 * push, a driver event) and lives until its sandbox is removed. Logs are in memory only: a gateway
 * restart starts them empty.
 */
public final class SandboxLogs {

  public sealed interface Command {}

  /** Lines a supervisor pushed; already checked to belong to an existing sandbox. */
  public record Push(String sandboxId, List<SandboxLogLine> lines, ActorRef<Done> replyTo) implements Command {}

  /** One of the gateway's own log lines that names a sandbox. */
  public record GatewayLine(SandboxLogLine line) implements Command {}

  public record RecordEvent(String sandboxId, PlatformEvent event) implements Command {}

  /** GetSandboxLogs: the last {@code lines} matching lines (0 = all) and how many the buffer holds. */
  public record Tail(String sandboxId, int lines, LogFilter filter, ActorRef<TailReply> replyTo) implements Command {}

  public record TailReply(List<SandboxLogLine> lines, int bufferTotal) {}

  /** Starts a follow: the requested tails, and the cursors to follow from. */
  public record StartFollow(String sandboxId, int logTail, LogFilter filter, int eventTail, ActorRef<Batch> replyTo)
      implements Command {}

  /** What came after the cursors (waits up to follow-wait for something to come). */
  public record Follow(String followerId, String sandboxId, long logCursor, long eventCursor, LogFilter filter,
      ActorRef<Batch> replyTo) implements Command {}

  /** Lines and events for a follower; {@code ended} once the sandbox is gone. */
  public record Batch(List<SandboxLogLine> lines, List<PlatformEvent> events, long logCursor, long eventCursor,
      long missedLines, long missedEvents, boolean ended) {}

  /** Buffer sizes, for operators and tests. */
  public record Usage(String sandboxId, ActorRef<Usage.Reply> replyTo) implements Command {
    public record Reply(int lines, long bytes, int buffers) {}
  }

  private record ViewChanged(SandboxView view) implements Command {}

  private record FollowWaitOver(String followerId) implements Command {}

  /** Ids of removed sandboxes remembered so late lines do not bring a buffer back. */
  private static final int REMEMBERED_REMOVALS = 4096;
  /** Gateway lines for ids not (yet) known to be sandboxes: at most this many ids, lines each, characters each. */
  private static final int LIMBO_IDS = 128;
  private static final int LIMBO_LINES_PER_ID = 8;
  private static final int LIMBO_MESSAGE_CHARS = 2048;

  public static Behavior<Command> create(LogSettings settings, ActorRef<Topic.Command<SandboxView>> views) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      views.tell(Topic.subscribe(context.messageAdapter(SandboxView.class, ViewChanged::new)));
      return new SandboxLogs(settings, context, timers).behavior();
    }));
  }

  /** The public form of a driver's platform event (same fields, UPSTREAM.md §D). */
  public static PlatformEvent fromDriver(DriverPlatformEvent event) {
    return PlatformEvent.newBuilder().setTimestampMs(event.getTimestampMs()).setSource(event.getSource())
        .setType(event.getType()).setReason(event.getReason()).setMessage(event.getMessage())
        .putAllMetadata(event.getMetadataMap()).build();
  }

  private record Parked(Follow request) {}

  private final LogSettings settings;
  private final TimerScheduler<Command> timers;
  private final Map<String, SandboxLogBuffer> buffers = new HashMap<>();
  private final Map<String, Parked> parked = new HashMap<>();
  private final Map<String, Boolean> removed = new LinkedHashMap<>(64, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED_REMOVALS;
    }
  };

  private final Map<String, List<SandboxLogLine>> limbo = new LinkedHashMap<>(64, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, List<SandboxLogLine>> eldest) {
      return size() > LIMBO_IDS;
    }
  };

  private SandboxLogs(LogSettings settings, ActorContext<Command> context, TimerScheduler<Command> timers) {
    this.settings = settings;
    this.timers = timers;
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Push.class, this::onPush)
        .onMessage(GatewayLine.class, this::onGatewayLine)
        .onMessage(RecordEvent.class, this::onEvent)
        .onMessage(Tail.class, this::onTail)
        .onMessage(StartFollow.class, this::onStartFollow)
        .onMessage(Follow.class, this::onFollow)
        .onMessage(FollowWaitOver.class, this::onFollowWaitOver)
        .onMessage(ViewChanged.class, this::onViewChanged)
        .onMessage(Usage.class, this::onUsage)
        .build();
  }

  private Behavior<Command> onPush(Push push) {
    if (!removed.containsKey(push.sandboxId())) {
      buffer(push.sandboxId()).appendPushed(push.lines());
      wake(push.sandboxId());
    }
    push.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }

  /**
   * A gateway line goes to its sandbox's buffer only once the sandbox is known to exist (seen on the
   * views topic, or checked by a push): the id in a gateway line may come from a client (a Hello or a
   * tunnel header for a sandbox that does not exist), and such ids must not create buffers. Lines for a
   * not-yet-known id wait in a small bounded limbo, because a sandbox's own line ("supervisor session
   * connected") is logged just before its new view is published.
   */
  private Behavior<Command> onGatewayLine(GatewayLine message) {
    String id = message.line().getSandboxId();
    if (removed.containsKey(id)) return Behaviors.same();
    if (buffers.containsKey(id)) {
      buffers.get(id).append(message.line());
      wake(id);
    } else {
      List<SandboxLogLine> waiting = limbo.computeIfAbsent(id, unknown -> new ArrayList<>());
      if (waiting.size() < LIMBO_LINES_PER_ID) waiting.add(limboSized(message.line()));
    }
    return Behaviors.same();
  }

  private static SandboxLogLine limboSized(SandboxLogLine line) {
    return line.getMessage().length() <= LIMBO_MESSAGE_CHARS ? line
        : line.toBuilder().setMessage(line.getMessage().substring(0, LIMBO_MESSAGE_CHARS) + " …").build();
  }

  private Behavior<Command> onEvent(RecordEvent message) {
    if (removed.containsKey(message.sandboxId())) return Behaviors.same();
    buffer(message.sandboxId()).appendEvent(message.event());
    wake(message.sandboxId());
    return Behaviors.same();
  }

  private Behavior<Command> onTail(Tail tail) {
    SandboxLogBuffer buffer = buffers.get(tail.sandboxId());
    tail.replyTo().tell(buffer == null ? new TailReply(List.of(), 0)
        : new TailReply(buffer.tail(tail.lines(), tail.filter()), buffer.lineCount()));
    return Behaviors.same();
  }

  private Behavior<Command> onStartFollow(StartFollow start) {
    SandboxLogBuffer buffer = buffers.get(start.sandboxId());
    if (buffer == null) {
      start.replyTo().tell(new Batch(List.of(), List.of(), 0, 0, 0, 0, removed.containsKey(start.sandboxId())));
    } else {
      start.replyTo().tell(new Batch(start.logTail() > 0 ? buffer.tail(start.logTail(), start.filter()) : List.of(),
          start.eventTail() > 0 ? buffer.eventTail(start.eventTail()) : List.of(),
          buffer.lastLineOffset(), buffer.lastEventOffset(), 0, 0, false));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onFollow(Follow follow) {
    Parked previous = parked.remove(follow.followerId());
    if (previous != null) previous.request().replyTo().tell(emptyBatch(previous.request(), false));
    if (removed.containsKey(follow.sandboxId())) {
      follow.replyTo().tell(emptyBatch(follow, true));
      return Behaviors.same();
    }
    SandboxLogBuffer buffer = buffers.get(follow.sandboxId());
    if (buffer != null && hasNews(buffer, follow)) {
      follow.replyTo().tell(batch(buffer, follow));
    } else {
      parked.put(follow.followerId(), new Parked(follow));
      timers.startSingleTimer(follow.followerId(), new FollowWaitOver(follow.followerId()), settings.followWait());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onFollowWaitOver(FollowWaitOver over) {
    Parked waiting = parked.remove(over.followerId());
    if (waiting != null) waiting.request().replyTo().tell(emptyBatch(waiting.request(), false));
    return Behaviors.same();
  }

  private Behavior<Command> onViewChanged(ViewChanged changed) {
    String id = changed.view().id();
    if (!changed.view().removed()) {
      if (!buffers.containsKey(id) && !removed.containsKey(id)) {
        buffer(id);
        wake(id);
      }
      return Behaviors.same();
    }
    removed.put(id, Boolean.TRUE);
    limbo.remove(id);
    buffers.remove(id);
    for (Iterator<Parked> it = parked.values().iterator(); it.hasNext(); ) {
      Follow request = it.next().request();
      if (!request.sandboxId().equals(id)) continue;
      it.remove();
      timers.cancel(request.followerId());
      request.replyTo().tell(emptyBatch(request, true));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onUsage(Usage usage) {
    SandboxLogBuffer buffer = buffers.get(usage.sandboxId());
    usage.replyTo().tell(buffer == null ? new Usage.Reply(0, 0, buffers.size())
        : new Usage.Reply(buffer.lineCount(), buffer.bytes(), buffers.size()));
    return Behaviors.same();
  }

  /** The sandbox's buffer, created (with any gateway lines waiting in limbo) when it is first known. */
  private SandboxLogBuffer buffer(String sandboxId) {
    SandboxLogBuffer buffer = buffers.get(sandboxId);
    if (buffer == null) {
      buffer = new SandboxLogBuffer(sandboxId, settings);
      buffers.put(sandboxId, buffer);
      List<SandboxLogLine> waiting = limbo.remove(sandboxId);
      if (waiting != null) waiting.forEach(buffer::append);
    }
    return buffer;
  }

  /** Answers the followers of this sandbox that wait for news. */
  private void wake(String sandboxId) {
    SandboxLogBuffer buffer = buffers.get(sandboxId);
    for (Iterator<Parked> it = parked.values().iterator(); it.hasNext(); ) {
      Follow request = it.next().request();
      if (!request.sandboxId().equals(sandboxId) || !hasNews(buffer, request)) continue;
      it.remove();
      timers.cancel(request.followerId());
      request.replyTo().tell(batch(buffer, request));
    }
  }

  private static boolean hasNews(SandboxLogBuffer buffer, Follow follow) {
    return buffer.lastLineOffset() > follow.logCursor() || buffer.lastEventOffset() > follow.eventCursor();
  }

  private Batch batch(SandboxLogBuffer buffer, Follow follow) {
    var lines = buffer.linesAfter(follow.logCursor(), settings.maxBatchLines(), follow.filter());
    var events = buffer.eventsAfter(follow.eventCursor(), settings.maxBatchLines());
    return new Batch(lines.entries(), events.entries(), lines.cursor(), events.cursor(), lines.missed(), events.missed(), false);
  }

  private static Batch emptyBatch(Follow follow, boolean ended) {
    return new Batch(List.of(), List.of(), follow.logCursor(), follow.eventCursor(), 0, 0, ended);
  }
}
