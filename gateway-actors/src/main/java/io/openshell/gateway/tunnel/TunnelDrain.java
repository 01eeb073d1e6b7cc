package io.openshell.gateway.tunnel;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.stream.KillSwitch;

/**
 * The one owner of this node's open tunnel connections (CONNECT and WebSocket) for a graceful leave.
 * Every connection registers its kill switch while it lives. On {@link Drain} (SIGTERM, once the
 * listeners stopped accepting) open tunnels keep carrying bytes until they end or the bound passes;
 * those still open then are closed. A tunnel that registers after the drain began (it slipped in
 * between the unbind and the drain) is closed at once.
 *
 * <p>The map holds one entry per open connection of this node: it is as bounded as the node's sockets.
 */
public final class TunnelDrain extends AbstractBehavior<TunnelDrain.Command> {

  public sealed interface Command {}

  /** A tunnel connection started; {@code kind} is "connect" or "websocket" (for the logs). */
  public record Opened(String connectionId, String kind, KillSwitch killSwitch) implements Command {}

  public record Closed(String connectionId) implements Command {}

  /** Let open tunnels finish for up to {@code bound}, then close the rest; replies once none is open. */
  public record Drain(Duration bound, ActorRef<Done> replyTo) implements Command {}

  /** How many tunnels are open right now (for tests and operations). */
  public record GetOpen(ActorRef<Integer> replyTo) implements Command {}

  private enum Deadline implements Command { INSTANCE }

  private record Tunnel(String kind, KillSwitch killSwitch) {}

  public static Behavior<Command> create() {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new TunnelDrain(context, timers)));
  }

  private final TimerScheduler<Command> timers;
  private final Map<String, Tunnel> open = new HashMap<>();
  private boolean draining;
  /** Who waits for the drain to finish; null before a drain and after it finished. */
  private ActorRef<Done> drainedTo;

  private TunnelDrain(ActorContext<Command> context, TimerScheduler<Command> timers) {
    super(context);
    this.timers = timers;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Closed.class, closed -> {
          open.remove(closed.connectionId());
          finishIfNoneOpen();
          return this;
        })
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Deadline.class, deadline -> {
          getContext().getLog().info("tunnel drain bound reached: closing {} open tunnels", open.size());
          open.values().forEach(tunnel -> tunnel.killSwitch().shutdown());
          open.clear();
          finish();
          return this;
        })
        .onMessage(GetOpen.class, get -> {
          get.replyTo().tell(open.size());
          return this;
        })
        .build();
  }

  private Behavior<Command> onOpened(Opened opened) {
    if (draining) {
      getContext().getLog().info("tunnel connection_id={} ({}) opened while the gateway drains: closed",
          opened.connectionId(), opened.kind());
      opened.killSwitch().shutdown();
    } else {
      open.put(opened.connectionId(), new Tunnel(opened.kind(), opened.killSwitch()));
    }
    return this;
  }

  private Behavior<Command> onDrain(Drain drain) {
    if (draining) {
      // The first drain owns the bound; a second request does not extend it.
      drain.replyTo().tell(Done.getInstance());
      return this;
    }
    draining = true;
    drainedTo = drain.replyTo();
    getContext().getLog().info("tunnel drain started: {} open tunnels ({} websocket) get up to {} to finish",
        open.size(), open.values().stream().filter(t -> t.kind().equals("websocket")).count(), drain.bound());
    timers.startSingleTimer(Deadline.INSTANCE, drain.bound());
    finishIfNoneOpen();
    return this;
  }

  private void finishIfNoneOpen() {
    if (draining && open.isEmpty() && drainedTo != null) {
      getContext().getLog().info("tunnel drain finished: every open tunnel ended");
      finish();
    }
  }

  private void finish() {
    timers.cancel(Deadline.INSTANCE);
    if (drainedTo != null) drainedTo.tell(Done.getInstance());
    drainedTo = null;
  }
}
