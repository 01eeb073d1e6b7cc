package io.openshell.compute.watch;

import io.openshell.protocol.compute.v1.WatchSandboxesEvent;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watchers of one compute driver's {@code WatchSandboxes} stream, owned by the driver's registry
 * actor: every call comes from that actor, so this class keeps no locks.
 *
 * <p>A watcher gets the registry's snapshot, then every event the registry publishes after it, in
 * order and with no gap, because the actor puts both into the watcher's own queue. (With a
 * BroadcastHub the consumer registered asynchronously after it was materialized, and an event
 * published in between was lost to it: a create right after a watch could go unseen.)
 *
 * <p>Each watcher's queue holds its snapshot plus {@code buffer} events (and the stream's async
 * boundary takes a few more out of it, at most pekko's input buffer). A watcher whose queue is full
 * when an event comes is failed with a message saying to watch again, rather than holding up the
 * others or silently missing an event; the gateway's watch restarts and starts again from a fresh
 * snapshot. Lives in the lowest driver module
 * because the protocol module holds generated code only; the process driver uses it too.
 */
public final class DriverWatchers {
  private static final Logger log = LoggerFactory.getLogger(DriverWatchers.class);

  /** Events beyond its snapshot that one watcher's queue holds. */
  public static final int BUFFER = 4096;

  private final ClassicActorSystemProvider system;
  private final int buffer;
  private final LongConsumer ended;
  private final Map<Long, BoundedSourceQueue<WatchSandboxesEvent>> queues = new HashMap<>();
  private long nextId;

  /**
   * @param ended called, from a stream's thread, with the id of a watcher whose stream is over; the
   *     owning actor sends itself a message and calls {@link #ended(long)} from it
   */
  public DriverWatchers(ClassicActorSystemProvider system, int buffer, LongConsumer ended) {
    if (buffer < 1) throw new IllegalArgumentException("a watcher's buffer must hold at least 1 event");
    this.system = system;
    this.buffer = buffer;
    this.ended = ended;
  }

  /** A new watcher's stream: {@code snapshot}, then what {@link #publish} is given from now on. */
  public Source<WatchSandboxesEvent, NotUsed> subscribe(List<WatchSandboxesEvent> snapshot) {
    long id = nextId++;
    var materialized = Source.<WatchSandboxesEvent>queue(snapshot.size() + buffer)
        .watchTermination(Keep.both())
        .preMaterialize(system);
    BoundedSourceQueue<WatchSandboxesEvent> queue = materialized.first().first();
    // Also when the stream is never run: the pre-materialized publisher then cancels after the
    // materializer's subscription timeout.
    materialized.first().second().whenComplete((done, failure) -> ended.accept(id));
    for (WatchSandboxesEvent event : snapshot) queue.offer(event); // fits: the queue was sized for it
    queues.put(id, queue);
    return materialized.second();
  }

  /** Hands {@code event} to every watcher; one whose queue is full is failed and forgotten. */
  public void publish(WatchSandboxesEvent event) {
    for (Iterator<Map.Entry<Long, BoundedSourceQueue<WatchSandboxesEvent>>> it = queues.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, BoundedSourceQueue<WatchSandboxesEvent>> watcher = it.next();
      QueueOfferResult result = watcher.getValue().offer(event);
      if (result == QueueOfferResult.enqueued()) continue;
      it.remove();
      if (result == QueueOfferResult.dropped()) {
        log.warn("driver watcher {} fell behind (its queue of {} events beyond the snapshot is full): its stream is failed;"
            + " a new watch starts from a fresh snapshot", watcher.getKey(), buffer);
        watcher.getValue().fail(new IllegalStateException("this WatchSandboxes stream fell behind the driver (its queue of "
            + buffer + " events beyond the snapshot is full); watch again to start from a fresh snapshot"));
      }
    }
  }

  /** Forgets a watcher whose stream is over (see the constructor's {@code ended}). */
  public void ended(long id) {
    queues.remove(id);
  }

  /** How many watchers are subscribed. */
  public int size() {
    return queues.size();
  }
}
