using System.Net;
using System.Net.Sockets;
using Polly;
using Polly.Retry;

namespace EdgeForge.Oci.Registry;

/// <summary>Retry settings for registry traffic.</summary>
public sealed record RetrySettings
{
    /// <summary>Retries after the first attempt.</summary>
    public int MaxRetries { get; init; } = 6;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait, also the cap on a server's <c>Retry-After</c>.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Resends requests that failed transiently — 429 and 5xx answers, refused or reset connections — with exponential
/// backoff and jitter, waiting as long as a <c>Retry-After</c> header asks (RFC 9110 §10.2.3; distribution-spec
/// lists 429 TOOMANYREQUESTS). Built on a Polly <see cref="ResiliencePipeline{T}"/>. Request bodies must be
/// re-sendable (see <see cref="ReopenableStreamContent"/>); the registry code never sees a retry.
/// </summary>
public sealed class RegistryRetryHandler : DelegatingHandler
{
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public RegistryRetryHandler(RetrySettings settings)
    {
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = settings.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.BaseDelay,
                MaxDelay = settings.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: OperationCanceledException } => false,
                    { Exception: { } e } => IsTransient(e),
                    { Result: { } response } => IsTransient(response.StatusCode),
                    _ => false,
                }),
                DelayGenerator = args =>
                {
                    var retryAfter = args.Outcome.Result is { } response ? RetryAfterOf(response) : null;
                    return ValueTask.FromResult(retryAfter is { } wait ? (TimeSpan?)TimeSpan.FromTicks(Math.Min(wait.Ticks, settings.MaxDelay.Ticks)) : null);
                },
                OnRetry = args =>
                {
                    // The failed answer is dropped: its connection goes back to the pool only once disposed.
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(RegistryRequestOptions.NoRetry, out var noRetry) && noRetry)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        return await _pipeline.ExecuteAsync(
            static async (state, token) => await state.Handler.SendCore(state.Request, token).ConfigureAwait(false),
            (Handler: this, Request: request),
            cancellationToken).ConfigureAwait(false);
    }

    private Task<HttpResponseMessage> SendCore(HttpRequestMessage request, CancellationToken cancellationToken) => base.SendAsync(request, cancellationToken);

    internal static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.RequestTimeout;

    internal static bool IsTransient(Exception exception) => exception switch
    {
        // A certificate or protocol problem will not go away by asking again.
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError or HttpRequestError.ConfigurationLimitExceeded } => false,
        HttpRequestException => true,
        IOException { InnerException: SocketException } => true,
        IOException => true,
        SocketException => true,
        _ => false,
    };

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
