package io.openshell.it.sim;

import io.openshell.protocol.compute.v1.*;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The compute driver of a simulated node: creates succeed at once; a delete stays in progress until
 * the history lets the driver answer ({@link #finishDelete}), so deletes race with everything else.
 * Status reports reach the sandbox as {@code Sandbox.DriverObserved} steps of the history.
 * Touched only from the harness thread and the simulation thread, one at a time.
 */
final class SimulatedDriver implements ComputeDriver {
  private final Map<String, CompletableFuture<DeleteSandboxResponse>> deletes = new HashMap<>();

  /** Completes a delete the sandbox is waiting for; false when none is in progress. */
  synchronized boolean finishDelete(String sandboxId) {
    CompletableFuture<DeleteSandboxResponse> delete = deletes.remove(sandboxId);
    if (delete == null) return false;
    delete.complete(DeleteSandboxResponse.newBuilder().setDeleted(true).build());
    return true;
  }

  @Override
  public synchronized CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    return deletes.computeIfAbsent(in.getSandboxId(), id -> new CompletableFuture<>());
  }

  @Override
  public CompletionStage<GetCapabilitiesResponse> getCapabilities(GetCapabilitiesRequest in) {
    return CompletableFuture.completedFuture(GetCapabilitiesResponse.newBuilder().setDriverName("simulated").build());
  }

  @Override
  public CompletionStage<ValidateSandboxCreateResponse> validateSandboxCreate(ValidateSandboxCreateRequest in) {
    return CompletableFuture.completedFuture(ValidateSandboxCreateResponse.getDefaultInstance());
  }

  @Override
  public CompletionStage<CreateSandboxResponse> createSandbox(CreateSandboxRequest in) {
    return CompletableFuture.completedFuture(CreateSandboxResponse.newBuilder().setSandbox(in.getSandbox()).build());
  }

  @Override
  public CompletionStage<GetSandboxResponse> getSandbox(GetSandboxRequest in) {
    return CompletableFuture.completedFuture(GetSandboxResponse.getDefaultInstance());
  }

  @Override
  public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in) {
    return CompletableFuture.completedFuture(ListSandboxesResponse.getDefaultInstance());
  }

  @Override
  public CompletionStage<StopSandboxResponse> stopSandbox(StopSandboxRequest in) {
    return CompletableFuture.completedFuture(StopSandboxResponse.getDefaultInstance());
  }

  @Override
  public Source<WatchSandboxesEvent, NotUsed> watchSandboxes(WatchSandboxesRequest in) {
    return Source.never();
  }
}
