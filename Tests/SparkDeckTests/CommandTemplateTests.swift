import Testing

@testable import SparkDeck

@Suite("Command templates")
struct CommandTemplateTests {
    @Test func valuesAreSingleQuotedSoMetacharactersStayText() throws {
        let template = try CommandTemplate("launch {recipe} --port {port}")
        let hostile = "x'; rm -rf / #$(reboot)`id`|&>"
        let rendered = try template.render(["recipe": hostile, "port": "8888"])
        #expect(rendered == #"launch 'x'\''; rm -rf / #$(reboot)`id`|&>' --port '8888'"#)
    }

    @Test func quotedValueRoundTripsThroughARealShell() async throws {
        let hostile = "a b'c\"d$(echo pwned);e`f`\\g\nh"
        let command = try CommandTemplate("printf %s {value}").render(["value": hostile])
        let result = try await LocalCommandRunner().run(command, timeout: .seconds(5))
        #expect(result.output == hostile)
        #expect(result.exitCode == 0)
    }

    @Test func shellSyntaxThatIsNotAParameterIsKept() throws {
        let template = try CommandTemplate(#"kill "$(cat {pid})"; echo ${HOME} {} { a }"#)
        #expect(template.parameterNames == ["pid"])
        #expect(try template.render(["pid": "/tmp/p"]) == #"kill "$(cat '/tmp/p')"; echo ${HOME} {} { a }"#)
    }

    @Test func goTemplatesForDockerFormatAreKept() throws {
        let template = try CommandTemplate("docker inspect -f '{{.State.Running}}' {container}")
        #expect(template.parameterNames == ["container"])
        #expect(try template.render(["container": "vllm_node"]) == "docker inspect -f '{{.State.Running}}' 'vllm_node'")
    }

    @Test func missingValueIsAnError() throws {
        let template = try CommandTemplate("run {model}")
        #expect(throws: CommandTemplate.MissingParameter(name: "model")) { try template.render([:]) }
    }

    @Test func malformedTemplatesAreRefused() {
        #expect(throws: CommandTemplate.ParseError.unclosedBrace(offset: 4)) { try CommandTemplate("run {model") }
        #expect(throws: CommandTemplate.ParseError.badName("a-b")) { try CommandTemplate("run {a-b}") }
    }
}
