package io.openshell.gateway.sandbox;

import io.openshell.gateway.CborSerializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;

/**
 * The read model behind ListSandboxes and the start-up reconcile: every sandbox's latest view, kept
 * in memory. Rebuilt once at start from the journal, then fed by the views every Sandbox actor
 * publishes, so a list never reads the journal.
 */
public final class SandboxCatalog {
  private SandboxCatalog() {}

  public sealed interface Command {}

  /** A page of existing sandboxes, oldest first. */
  public record List_(int limit, int offset, ActorRef<Page> replyTo) implements Command {}

  /** Every sandbox that still exists (including those being deleted). */
  public record AllExisting(ActorRef<Page> replyTo) implements Command {}

  public record Page(List<SandboxView> sandboxes) implements CborSerializable {}

  private record Updated(SandboxView view) implements Command {}

  private record Loaded(Map<String, Sandbox.State> states) implements Command {}

  private record LoadFailed(Throwable cause) implements Command {}

  private static final Comparator<SandboxView> OLDEST_FIRST =
      Comparator.comparingLong(SandboxView::createdAtMs).thenComparing(SandboxView::name);

  public static Behavior<Command> create(ActorRef<Topic.Command<SandboxView>> views) {
    return Behaviors.setup(context -> Behaviors.withStash(100_000, stash -> {
      views.tell(Topic.subscribe(context.messageAdapter(SandboxView.class, Updated::new)));
      load(context);
      return loading(context, stash);
    }));
  }

  private static void load(ActorContext<Command> context) {
    JdbcReadJournal journal = PersistenceQuery.get(context.getSystem())
        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    var fold = journal.currentEventsByTag(Sandbox.TAG, Offset.noOffset())
        .runFold(new HashMap<String, Sandbox.State>(), (states, envelope) -> {
          if (envelope.event() instanceof Sandbox.Event event) {
            String id = envelope.persistenceId().substring(envelope.persistenceId().indexOf('|') + 1);
            states.put(id, states.getOrDefault(id, Sandbox.State.empty()).apply(event));
          }
          return states;
        }, context.getSystem());
    context.pipeToSelf(fold, (states, failure) -> failure == null ? new Loaded(states) : new LoadFailed(failure));
  }

  private static Behavior<Command> loading(ActorContext<Command> context, StashBuffer<Command> stash) {
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, loaded -> {
          Map<String, SandboxView> views = new HashMap<>();
          loaded.states().forEach((id, state) -> {
            if (state.exists()) views.put(id, state.view(false));
          });
          context.getLog().info("sandbox catalog loaded: {} sandboxes", views.size());
          return stash.unstashAll(ready(views));
        })
        .onMessage(LoadFailed.class, failed -> {
          context.getLog().error("sandbox catalog could not read the journal; retrying", failed.cause());
          load(context);
          return Behaviors.same();
        })
        .onAnyMessage(message -> {
          stash.stash(message);
          return Behaviors.same();
        })
        .build();
  }

  private static Behavior<Command> ready(Map<String, SandboxView> views) {
    return Behaviors.receive(Command.class)
        .onMessage(Updated.class, updated -> {
          SandboxView view = updated.view();
          SandboxView known = views.get(view.id());
          if (known != null && known.revision() >= view.revision()) return Behaviors.same();
          if (view.removed()) {
            views.remove(view.id());
          } else {
            views.put(view.id(), view);
          }
          return Behaviors.same();
        })
        .onMessage(List_.class, list -> {
          List<SandboxView> sorted = new ArrayList<>(views.values());
          sorted.sort(OLDEST_FIRST);
          // A bad page must not throw: this actor is the only read model, and a thrown exception stops it.
          int from = (int) Math.min(Math.max(0L, list.offset()), sorted.size());
          int to = (int) Math.min((long) from + Math.max(0L, list.limit()), sorted.size());
          list.replyTo().tell(new Page(List.copyOf(sorted.subList(from, to))));
          return Behaviors.same();
        })
        .onMessage(AllExisting.class, all -> {
          List<SandboxView> sorted = new ArrayList<>(views.values());
          sorted.sort(OLDEST_FIRST);
          all.replyTo().tell(new Page(List.copyOf(sorted)));
          return Behaviors.same();
        })
        .build();
  }
}
