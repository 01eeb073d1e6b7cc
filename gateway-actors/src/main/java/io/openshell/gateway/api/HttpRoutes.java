package io.openshell.gateway.api;

import io.openshell.gateway.persistence.JournalSchema;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/** Plain HTTP routes on the main port (and the optional health port). */
public final class HttpRoutes extends AllDirectives {
  private final JournalSchema database;
  private final Executor blocking;

  public HttpRoutes(JournalSchema database, Executor blocking) {
    this.database = database;
    this.blocking = blocking;
  }

  public Route routes() {
    return concat(
        path("healthz", () -> get(() -> complete("ok\n"))),
        // Ready only while persistence answers: a gateway that cannot journal must not take traffic.
        path("readyz", () -> get(() -> onSuccess(
            CompletableFuture.supplyAsync(database::answers, blocking),
            answers -> answers
                ? complete("ready\n")
                : complete(StatusCodes.SERVICE_UNAVAILABLE, "database is not answering\n")))));
  }
}
