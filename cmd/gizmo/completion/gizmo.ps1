# PowerShell completion for gizmo: add to your profile,
#   gizmo completion powershell | Out-String | Invoke-Expression
# Commands, subcommands and flags come from gizmo itself; asset ids and
# names from the local cache (never the network).
Register-ArgumentCompleter -Native -CommandName gizmo -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    if ($wordToComplete -ne '') { $words = @($words[0..($words.Count - 2)]) }
    $rest = @($words | Select-Object -Skip 1)
    if ($wordToComplete -like '-*') { $rest += $wordToComplete }
    & $words[0] @rest --generate-bash-completion 2>$null |
        Where-Object { $_ -like "$wordToComplete*" } |
        ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
