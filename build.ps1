# Bullet Dashboard build entry point for Windows (mirrors build.sh; best effort, not tested in CI).
#   ./build.ps1          build the native library and the Python packages
#   ./build.ps1 test     build, then run every test suite
#   ./build.ps1 run      build, then start the product
param([string]$Command = "build")
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
$Root = Get-Location
$Venv = Join-Path $Root ".venv"
$NativeOut = Join-Path $Root "build-out/native"
$PyPkg = Join-Path $Root "python/bullet_native"

function Build-Native {
    if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) { throw "the .NET SDK 10 is required (https://dot.net)" }
    dotnet publish dotnet/BulletNative/BulletNative.csproj -c Release -r win-x64 -o $NativeOut --nologo -v quiet
    Copy-Item (Join-Path $NativeOut "libbullet_native.dll") (Join-Path $PyPkg "libbullet_native.dll") -Force
}

function Build-Python {
    if (-not (Test-Path (Join-Path $Venv "Scripts/python.exe"))) { python -m venv $Venv }
    & (Join-Path $Venv "Scripts/pip.exe") install --quiet numpy pytest fastapi uvicorn python-multipart httpx
    & (Join-Path $Venv "Scripts/pip.exe") install --quiet --no-deps -e .
}

function Build-All { Build-Native; Build-Python }

switch ($Command) {
    "build" { Build-All }
    "test" {
        Build-All
        dotnet test dotnet/BulletNative.Tests/BulletNative.Tests.csproj --nologo -v quiet
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
        & (Join-Path $Venv "Scripts/python.exe") -m pytest python/tests -q
        exit $LASTEXITCODE
    }
    "run" { Build-All; & (Join-Path $Venv "Scripts/python.exe") -m bullet_native demo }
    default { Write-Error "usage: ./build.ps1 [build|test|run]"; exit 2 }
}
