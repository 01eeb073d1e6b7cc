package io.openshell.gateway;

import io.openshell.protocol.compute.v1.*;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A driver that accepts everything and runs nothing: for tests of the gateway's API and session
 * handling, where the test itself plays the supervisor. Process-driver behavior is tested with real
 * processes elsewhere.
 */
public final class AcceptingDriver implements ComputeDriver {
  public final ConcurrentLinkedQueue<String> created = new ConcurrentLinkedQueue<>();
  public final ConcurrentLinkedQueue<String> deleted = new ConcurrentLinkedQueue<>();
  /** The supervisor credential each create handed over, by sandbox id: what a real driver gives its supervisor. */
  public final java.util.concurrent.ConcurrentHashMap<String, String> credentials = new java.util.concurrent.ConcurrentHashMap<>();

  /** The credential the gateway gave this driver for {@code sandboxId} (the latest create or reconcile). */
  public String credential(String sandboxId) {
    String credential = credentials.get(sandboxId);
    if (credential == null || credential.isEmpty()) throw new AssertionError("the driver got no credential for " + sandboxId);
    return credential;
  }

  @Override
  public CompletionStage<GetCapabilitiesResponse> getCapabilities(GetCapabilitiesRequest in) {
    return CompletableFuture.completedFuture(GetCapabilitiesResponse.newBuilder().setDriverName("accepting").build());
  }

  @Override
  public CompletionStage<ValidateSandboxCreateResponse> validateSandboxCreate(ValidateSandboxCreateRequest in) {
    if (in.getSandbox().getSpec().getGpu()) {
      return CompletableFuture.failedFuture(new io.grpc.StatusRuntimeException(
          io.grpc.Status.FAILED_PRECONDITION.withDescription("gpu sandboxes are not supported by this driver")));
    }
    return CompletableFuture.completedFuture(ValidateSandboxCreateResponse.getDefaultInstance());
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
  public CompletionStage<CreateSandboxResponse> createSandbox(CreateSandboxRequest in) {
    created.add(in.getSandbox().getId());
    credentials.put(in.getSandbox().getId(), in.getSandbox().getSpec().getSupervisorCredential());
    return CompletableFuture.completedFuture(CreateSandboxResponse.newBuilder().setSandbox(in.getSandbox()).build());
  }

  @Override
  public CompletionStage<StopSandboxResponse> stopSandbox(StopSandboxRequest in) {
    return CompletableFuture.completedFuture(StopSandboxResponse.getDefaultInstance());
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    deleted.add(in.getSandboxId());
    return CompletableFuture.completedFuture(DeleteSandboxResponse.newBuilder().setDeleted(true).build());
  }

  @Override
  public Source<WatchSandboxesEvent, NotUsed> watchSandboxes(WatchSandboxesRequest in) {
    return Source.never();
  }
}
