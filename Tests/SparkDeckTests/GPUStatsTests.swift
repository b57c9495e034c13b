import Testing

@testable import SparkDeck
@testable import SparkSim

@Suite("GPU and container readings")
struct GPUStatsTests {
    @Test func nvidiaSMIOutputOfADiscreteGPU() throws {
        let stats = try #require(GPUStats.parse(nvidiaSMI: "87, 40960, 97871, 71, 245.50\n"))
        #expect(
            stats
                == GPUStats(
                    utilizationPercent: 87, memoryUsedMiB: 40960, memoryTotalMiB: 97871, temperatureC: 71,
                    powerW: 245.5, memorySource: "nvidia-smi"))
        #expect(stats.memoryFreeGiB.map { Int($0) } == 55)
    }

    @Test func gb10ReportsMemoryAsNotAvailableSoFreeStandsIn() throws {
        let stats = try #require(GPUStats.parse(nvidiaSMI: "35, [N/A], [N/A], 59, 35.23"))
        #expect(stats.memoryUsedMiB == nil && stats.utilizationPercent == 35)
        let free = """
                           total        used        free      shared  buff/cache   available
            Mem:    128849018880 34359738368 90194313216   123456789  4294967296 94489280512
            Swap:              0           0           0
            """
        let filled = stats.withMemory(fromFree: free)
        #expect(filled.memorySource == "free")
        #expect(filled.memoryTotalMiB == 122880)
        #expect(filled.memoryUsedMiB == 32768)
        #expect(filled.memoryFreeGiB == 88)
        #expect(GPUStats.parse(nvidiaSMI: "[N/A], [N/A], [N/A], [N/A], [N/A]") == nil)
        #expect(GPUStats.parse(nvidiaSMI: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") == nil)
    }

    @Test func sparkSimsStandInParsesLikeAGB10() throws {
        let busy = try #require(GPUStats.parse(nvidiaSMI: SimNvidiaSMI.line(busy: true)))
        #expect((busy.utilizationPercent ?? 0) >= 25 && busy.memoryUsedMiB == nil)
        #expect(GPUStats.parse(nvidiaSMI: SimNvidiaSMI.line(busy: false))?.utilizationPercent == 0)
    }

    @Test func readerFallsBackToFreeThroughARealShell() async throws {
        let stats = try #require(try await GPUReader.read(LocalCommandRunner(), command: "echo '12, [N/A], [N/A], 50, 20.0'"))
        #expect(stats.memorySource == "free")
        #expect((stats.memoryTotalMiB ?? 0) > 0)
        #expect(try await GPUReader.read(LocalCommandRunner(), command: "no-such-nvidia-smi --query") == nil)
    }

    @Test func dockerPsLines() {
        let containers = ContainerInfo.parse("vllm_node\tvllm-node:latest\tUp 2 hours\nparakeet-asr\tparakeet:1\tUp 3 days (healthy)\n\n")
        #expect(
            containers == [
                ContainerInfo(name: "vllm_node", image: "vllm-node:latest", status: "Up 2 hours"),
                ContainerInfo(name: "parakeet-asr", image: "parakeet:1", status: "Up 3 days (healthy)"),
            ])
    }

    @Test func nodeStatsNoteWhatIsMissing() async {
        let node = Node(
            id: "n", host: "127.0.0.1", transport: .local, ssh: nil,
            probes: NodeProbeSettings(gpu: "no-such-nvidia-smi", containers: "no-such-docker ps", intervalSeconds: 5))
        let stats = await NodeStats.read(node, runner: LocalCommandRunner())
        #expect(stats.gpu == nil && stats.containers == nil)
        #expect(stats.note?.contains("no GPU reading") == true)
        #expect(stats.note?.contains("docker not found") == true)
    }
}
