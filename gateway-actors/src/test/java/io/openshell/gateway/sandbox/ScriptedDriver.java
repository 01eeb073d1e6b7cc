package io.openshell.gateway.sandbox;

import io.openshell.protocol.compute.v1.*;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A compute driver for unit tests of the Sandbox actor alone: every create/delete call is handed to
 * the test, which completes it (accept, refuse, or fail) when it chooses.
 */
final class ScriptedDriver implements ComputeDriver {
  record Call(String kind, String sandboxId, CompletableFuture<Void> outcome) {}

  final LinkedBlockingQueue<Call> calls = new LinkedBlockingQueue<>();
  /** The supervisor credential of the latest create per sandbox id, as a real driver would hand it over. */
  final java.util.concurrent.ConcurrentHashMap<String, String> credentials = new java.util.concurrent.ConcurrentHashMap<>();

  String credential(String sandboxId) {
    String credential = credentials.get(sandboxId);
    if (credential == null || credential.isEmpty()) throw new AssertionError("the driver got no credential for " + sandboxId);
    return credential;
  }

  Call nextCall() throws InterruptedException {
    Call call = calls.poll(10, TimeUnit.SECONDS);
    if (call == null) throw new AssertionError("the sandbox did not call the driver");
    return call;
  }

  @Override
  public CompletionStage<GetCapabilitiesResponse> getCapabilities(GetCapabilitiesRequest in) {
    return CompletableFuture.completedFuture(GetCapabilitiesResponse.newBuilder().setDriverName("scripted").build());
  }

  @Override
  public CompletionStage<ValidateSandboxCreateResponse> validateSandboxCreate(ValidateSandboxCreateRequest in) {
    return CompletableFuture.completedFuture(ValidateSandboxCreateResponse.getDefaultInstance());
  }

  @Override
  public CompletionStage<GetSandboxResponse> getSandbox(GetSandboxRequest in) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException());
  }

  @Override
  public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in) {
    return CompletableFuture.completedFuture(ListSandboxesResponse.getDefaultInstance());
  }

  @Override
  public CompletionStage<CreateSandboxResponse> createSandbox(CreateSandboxRequest in) {
    CompletableFuture<Void> outcome = new CompletableFuture<>();
    credentials.put(in.getSandbox().getId(), in.getSandbox().getSpec().getSupervisorCredential());
    calls.add(new Call("create", in.getSandbox().getId(), outcome));
    return outcome.thenApply(v -> CreateSandboxResponse.newBuilder().setSandbox(in.getSandbox()).build());
  }

  @Override
  public CompletionStage<StopSandboxResponse> stopSandbox(StopSandboxRequest in) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException());
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    CompletableFuture<Void> outcome = new CompletableFuture<>();
    calls.add(new Call("delete", in.getSandboxId(), outcome));
    return outcome.thenApply(v -> DeleteSandboxResponse.newBuilder().setDeleted(true).build());
  }

  @Override
  public Source<WatchSandboxesEvent, NotUsed> watchSandboxes(WatchSandboxesRequest in) {
    return Source.never();
  }
}
